using System.Text;
using CdsMitral.Snapshot;

namespace CdsMitral.Rules;

/// <summary>Builds the short GitHub-flavoured markdown of a card's detail, in the same order on every card.</summary>
internal sealed class Detail
{
    private readonly StringBuilder _md = new();

    public Detail Para(string text)
    {
        _md.Append(text).Append("\n\n");
        return this;
    }

    public Detail ParaIf(bool condition, string text) => condition ? Para(text) : this;

    public Detail Heading(string text)
    {
        _md.Append("**").Append(text).Append("**\n\n");
        return this;
    }

    public Detail Bullets(params string[] items)
    {
        foreach (var item in items)
        {
            _md.Append("- ").Append(item).Append('\n');
        }
        _md.Append('\n');
        return this;
    }

    /// <summary>The values a card rests on, each with its date and source; missing ones are said to be missing.</summary>
    public Detail Values(ClinicalSnapshot s, MrSeverity? mr, Measurement? lvef, Measurement? lvesd, Measurement? pasp)
    {
        var lines = new List<string>();
        if (mr is not null)
        {
            lines.Add($"MR severity: {mr.Label} on {mr.DateText} ({mr.Source}){(mr.IsStale ? " — stale" : "")}");
        }
        foreach (var (name, value, target) in new[] { ("LVEF", lvef, "20–50 %"), ("LVESD", lvesd, "≤ 70 mm"), ("PASP", pasp, "≤ 70 mmHg") })
        {
            if (value is not null)
            {
                lines.Add($"{name}: {value.Display} on {value.DateText} ({value.Source}); COAPT-like range {target}");
            }
            else if (ShouldMentionMissing(name, s))
            {
                lines.Add($"{name}: no current value on record");
            }
        }
        return lines.Count == 0 ? this : Heading("Values used").Bullets(lines.ToArray());
    }

    private static bool ShouldMentionMissing(string name, ClinicalSnapshot s) => name switch
    {
        "LVEF" => s.CurrentLvef is null,
        "LVESD" => s.CurrentLvesd is null,
        _ => s.CurrentPasp is null,
    };

    /// <summary>EROA, regurgitant volume and fraction, LVEDV: context only, never a gate (proportionate vs disproportionate MR).</summary>
    public Detail Context(ClinicalSnapshot s)
    {
        var values = new[] { s.Eroa, s.RegurgitantVolume, s.RegurgitantFraction, s.Lvedv }
            .OfType<Measurement>()
            .Select(m => $"{m.Name} {m.Display} ({m.DateText}{(m.IsStale ? ", stale" : "")})")
            .ToList();
        return values.Count == 0
            ? this
            : Para($"Context only, not a criterion: {string.Join(", ", values)}. Whether MR is proportionate to LV size may bear on the response to MR reduction; later analyses did not firmly confirm it.");
    }

    public Detail Evidence(string text) => Para($"*Basis:* {text}");

    /// <summary>What a reader must know about the data: values not used, data that could not be had, truncated searches.</summary>
    public Detail Caveats(ClinicalSnapshot s)
    {
        var lines = s.Findings.Select(f => $"{f.Measure} {f.Source} {f.Problem}")
            .Concat(s.Unavailable.Select(u => $"{SecondaryMrRules.Capitalise(u)} could not be retrieved; considerations that depend on them may be incomplete"))
            .Concat(s.Notes)
            .ToList();
        return lines.Count == 0 ? this : Heading("Data notes").Bullets(lines.ToArray());
    }

    public override string ToString() => _md.ToString().TrimEnd();
}
