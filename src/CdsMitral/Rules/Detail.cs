using System.Text;
using CdsMitral.Cards;
using CdsMitral.Clinical;
using CdsMitral.Snapshot;

namespace CdsMitral.Rules;

/// <summary>Builds the short GitHub-flavoured markdown of a card's detail, in the same order on every card. Every piece
/// arrives as <see cref="Md"/> or <see cref="Markdown.Safe"/>: record text is escaped on its way in.</summary>
internal sealed class Detail
{
    private readonly StringBuilder _md = Builders.Rent(4096);
    private string? _text;

    public Detail Para(Md text)
    {
        text.MoveTo(_md);
        _md.Append("\n\n");
        return this;
    }

    public Detail Para(Markdown.Safe text)
    {
        _md.Append(text.Text).Append("\n\n");
        return this;
    }

    public Detail ParaIf(bool condition, Md text) => condition ? Para(text) : this;

    public Detail Heading(Md text)
    {
        _md.Append("**");
        text.MoveTo(_md);
        _md.Append("**\n\n");
        return this;
    }

    public Detail Bullets(IEnumerable<Markdown.Safe> items)
    {
        foreach (var item in items)
        {
            _md.Append("- ").Append(item.Text).Append('\n');
        }
        _md.Append('\n');
        return this;
    }

    public Detail Bullets(params Markdown.Safe[] items) => Bullets((IEnumerable<Markdown.Safe>)items);

    /// <summary>The values a card rests on, each with its date and source; missing ones are said to be missing. With
    /// <paramref name="ranges"/>, each value is followed by the COAPT-like range it is judged against; framing cards show
    /// values without them (decision 24).</summary>
    public Detail Values(ClinicalSnapshot s, MrSeverity? mr, Measurement? lvef, Measurement? lvesd, Measurement? pasp, bool ranges = false)
    {
        var lines = new List<Markdown.Safe>();
        if (mr is not null)
        {
            lines.Add(Markdown.Of($"MR severity: {mr.Label} on {mr.DateText} ({mr.Source}){(mr.IsStale ? " — stale" : "")}"));
        }
        foreach (var (name, value, current, target) in new[]
                 {
                     ("LVEF", lvef, s.CurrentLvef, Thresholds.LvefWindowText),
                     ("LVESD", lvesd, s.CurrentLvesd, Thresholds.LvesdWindowText),
                     ("PASP", pasp, s.CurrentPasp, Thresholds.PaspWindowText),
                 })
        {
            if (value is not null)
            {
                lines.Add(ranges
                    ? Markdown.Of($"{name}: {value.Display} on {value.DateText} ({value.Source}); COAPT-like range {target}")
                    : Markdown.Of($"{name}: {value.Display} on {value.DateText} ({value.Source})"));
            }
            else if (current is null)
            {
                lines.Add(Markdown.Of($"{name}: no current value on record"));
            }
        }
        return lines.Count == 0 ? this : Heading($"Values used").Bullets(lines);
    }

    /// <summary>How many unrecognised medications a card names before it counts the rest.</summary>
    private const int NamedUnrecognised = 5;

    /// <summary>What the record says of GDMT that is not a plain presence or absence: metoprolol without its salt, finerenone,
    /// orders not counted as taken, and medications that could not be classified. The same lines on every card that judges
    /// GDMT, so that no card says less than another about a drug that might fill a gap.</summary>
    public Detail GdmtNotes(ClinicalSnapshot s)
    {
        var g = s.Gdmt;
        var unrecognised = g.Unrecognised;
        return ParaIf(g.AmbiguousBetaBlocker.Count > 0,
                $"Metoprolol, salt not stated ({Markdown.Join(", ", g.AmbiguousBetaBlocker.Select(u => Markdown.Of($"{u.Source}")))}): the succinate is an HFrEF beta-blocker, the tartrate is not. Confirm which.")
            .ParaIf(g.NonSteroidalMra.Count > 0,
                $"Non-steroidal MRA (finerenone): not an HFrEF MRA pillar ({Markdown.Join(", ", g.NonSteroidalMra.Select(u => Markdown.Of($"{u.Name}, {u.Source}")))}); two MRAs are not given together, so spironolactone or eplerenone would replace it, not join it.")
            .ParaIf(g.NotOnBoard.Count > 0,
                $"Not counted as taken: {Markdown.Join("; ", g.NotOnBoard.Select(u => Markdown.Of($"{u.Name} ({u.Source}): {u.Note}")))}.")
            .ParaIf(unrecognised.Count > 0,
                $"On record but not recognised, so not classified: {Markdown.Join("; ", unrecognised.Take(NamedUnrecognised).Select(u => Markdown.Of($"{u.Name} ({u.Source}): {u.Note}")))}{(unrecognised.Count > NamedUnrecognised ? $"; and {unrecognised.Count - NamedUnrecognised} more" : "")}. {(unrecognised.Count == 1 ? "It may belong" : "One of them may belong")} to a class named above as missing: check before adding a drug.");
    }

    /// <summary>EROA, regurgitant volume and fraction, LVEDV: context only, never a gate (proportionate vs disproportionate MR).</summary>
    public Detail Context(ClinicalSnapshot s)
    {
        var values = new[] { s.Eroa, s.RegurgitantVolume, s.RegurgitantFraction, s.Lvedv }
            .OfType<Measurement>()
            .Select(m => $"{m.Name} {m.Display} ({m.DateText}{(m.IsStale ? ", stale" : "")})")
            .ToList();
        return values.Count == 0
            ? this
            : Para($"Context: {string.Join(", ", values)}. {new Markdown.Trusted(Evidence.Proportionate)}");
    }

    /// <summary>The card's basis: statements of <see cref="Clinical.Evidence"/>, the service's own text, written as they are.</summary>
    public Detail Basis(params string[] statements)
    {
        _md.Append("*Basis:* ").AppendJoin(' ', statements).Append("\n\n");
        return this;
    }

    public Detail StatementIf(bool condition, string text) => condition ? Statement(text) : this;

    /// <summary>A paragraph of the service's own text (an evidence statement): nothing in it comes from a record.</summary>
    public Detail Statement(string text)
    {
        _md.Append(text).Append("\n\n");
        return this;
    }

    /// <summary>What a reader must know about the data: values not used, data that could not be had, truncated searches.</summary>
    public Detail Caveats(ClinicalSnapshot s)
    {
        var lines = s.Findings.Select(f => Markdown.Of($"{f.Measure} {f.Source} {f.Problem}"))
            .Concat(s.Unavailable.Select(u => Markdown.Of($"{Wording.Capitalise(u)} could not be retrieved; considerations that depend on them may be incomplete")))
            .Concat(s.Notes.Select(n => Markdown.Of($"{n}")))
            .ToList();
        return lines.Count == 0 ? this : Heading($"Data notes").Bullets(lines);
    }

    /// <summary>The markdown without its trailing blank lines. The builder goes back to <see cref="Builders"/> after the first call.</summary>
    public override string ToString()
    {
        if (_text is null)
        {
            var end = _md.Length;
            while (end > 0 && char.IsWhiteSpace(_md[end - 1]))
            {
                end--;
            }
            _text = _md.ToString(0, end);
            Builders.Return(_md);
        }
        return _text;
    }
}
