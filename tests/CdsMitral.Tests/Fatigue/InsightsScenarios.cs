using System.Net;
using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CdsMitral.Tests.Fatigue;

/// <summary>A known event history, written into the audit store as the service would write it, and every figure of
/// /audit/insights and every cell of /audit/insights.csv checked against it.</summary>
public static class InsightsScenarios
{
    private const string Coapt = "smr-coapt-profile";
    private const string Gdmt = "smr-gdmt-gap";

    private static AuditEntry Hook(string at, int status, (string Rule, string? NotShown, string? Card)[] rules, params (string Measure, string Problem)[] findings)
    {
        var document = new JsonObject
        {
            ["at"] = at,
            ["serviceId"] = "secondary-mr-patient-view",
            ["hook"] = "patient-view",
            ["status"] = status,
            ["rules"] = new JsonArray(rules.Select(r => (JsonNode)new JsonObject
            {
                ["ruleId"] = r.Rule, ["version"] = "1.1.0", ["fired"] = true, ["reason"] = "…", ["notShown"] = r.NotShown,
            }).ToArray()),
            ["cards"] = new JsonArray(rules.Where(r => r.Card is not null).Select(r => (JsonNode)new JsonObject
            {
                ["uuid"] = r.Card, ["summary"] = "…", ["indicator"] = r.Rule == Gdmt ? "warning" : "info",
                ["source"] = new JsonObject { ["label"] = "CdsMitral", ["topic"] = new JsonObject { ["code"] = r.Rule } },
            }).ToArray()),
            ["snapshot"] = new JsonObject
            {
                ["findings"] = new JsonArray(findings.Select(f => (JsonNode)new JsonObject { ["measure"] = f.Measure, ["source"] = "Observation/x", ["problem"] = f.Problem }).ToArray()),
            },
        };
        return new AuditEntry(Guid.NewGuid(), EventKind.Hook, DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture), document.ToJsonString());
    }

    private static AuditEntry Feedback(string at, string card, string outcome, string? reason = null)
    {
        var document = new JsonObject
        {
            ["at"] = at, ["card"] = card, ["outcome"] = outcome, ["outcomeTimestamp"] = at,
            ["overrideReason"] = reason is null ? null : new JsonObject { ["system"] = "urn:x", ["code"] = reason },
        };
        return new AuditEntry(Guid.NewGuid(), EventKind.Feedback, DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture), document.ToJsonString());
    }

    private const string UnknownUnit = "unit 'x' not understood";
    private const string Implausible = "190 mmHg, implausible";

    /// <summary>Week 46 and 47 of 2026, plus a call before the range and one refused.</summary>
    public static readonly AuditEntry[] History =
    [
        Hook("2026-10-01T09:00:00Z", 200, [(Coapt, null, "c0")]), // before the range
        Hook("2026-11-10T09:00:00Z", 200, [(Coapt, null, "c1"), (Gdmt, null, "g1")], ("LVEF", UnknownUnit)),
        Hook("2026-11-11T09:00:00Z", 200, [(Coapt, null, "c2"), (Gdmt, "not shown: overridden on 2026-11-10 by Practitioner/1 for gdmt-max-tolerated; …", null)],
            ("LVEF", UnknownUnit), ("PASP", Implausible)),
        Hook("2026-11-12T09:00:00Z", 200, [(Coapt, "not shown: at most 1 card per answer, and smr-gdmt-gap came first", null), (Gdmt, null, "g3")], ("PASP", Implausible)),
        Hook("2026-11-12T10:00:00Z", 412, []),
        Feedback("2026-11-10T09:02:00Z", "c1", "overridden", "already-evaluated-hvt"),
        Feedback("2026-11-10T09:10:00Z", "g1", "overridden", "gdmt-max-tolerated"),
        Feedback("2026-11-11T09:01:00Z", "c2", "accepted"),
        Feedback("2026-11-12T10:00:00Z", "g3", "overridden"),
        Feedback("2026-11-12T10:00:00Z", "not-a-card-on-record", "overridden", "patient-refuses"),
        Hook("2026-11-17T09:00:00Z", 200, [(Coapt, null, "c5")]),
        // A reason code is the client's text: a spreadsheet must not run it.
        Feedback("2026-11-17T09:00:30Z", "c5", "overridden", "=1+2"),
    ];

    public const string ExpectedCsv =
        "rule_id,rule_version,week,judged,fired,fire_rate,judged_silently,fired_silently,silent_fire_rate,shown,suppressed,left_out_by_limit,accepted,overridden,overridden_by_reason,override_rate,answer_p50_seconds,answer_p95_seconds,top_data_quality_findings\n"
        + "smr-coapt-profile,1.1.0,2026-W46,3,3,1,0,0,,2,0,1,1,1,already-evaluated-hvt ×1,0.5,60,120,\"LVEF: unit 'x' not understood ×2; PASP: 190 mmHg, implausible ×2\"\n"
        + "smr-coapt-profile,1.1.0,2026-W47,1,1,1,0,0,,1,0,0,0,1,'=1+2 ×1,1,30,30,\n"
        + "smr-gdmt-gap,1.1.0,2026-W46,3,3,1,0,0,,2,1,0,0,2,(none) ×1; gdmt-max-tolerated ×1,1,600,3600,\"LVEF: unit 'x' not understood ×2; PASP: 190 mmHg, implausible ×2\"\n";

    public static async Task EveryFigureAndCsvCellMatchesAKnownHistory(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        using (service.CreateClient())
        {
            // started: the schema is in place
        }
        await service.Services.GetRequiredService<AuditStore>().AppendAsync(History, CancellationToken.None);

        using var auditor = service.AuditorClient();
        var csv = await auditor.GetAsync("/audit/insights.csv?from=2026-11-09&to=2026-11-22");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ExpectedCsv, await csv.Content.ReadAsStringAsync());

        var page = await (await auditor.GetAsync("/audit/insights?from=2026-11-09&to=2026-11-22")).Content.ReadAsStringAsync();
        // The table holds the same cells as the CSV, HTML-encoded, in the same order.
        foreach (var line in ExpectedCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            var cells = Cells(line).Select(c => c.StartsWith("'=", StringComparison.Ordinal) ? c[1..] : c);
            Assert.Contains("<tr>" + string.Concat(cells.Select(c => $"<td>{WebUtility.HtmlEncode(c)}</td>")) + "</tr>", page, StringComparison.Ordinal);
        }
        // One chart per rule version; five bars per week, each bar as tall as its figure (largest = 110 px).
        Assert.Contains("id=\"chart-smr-coapt-profile-1.1.0\"", page, StringComparison.Ordinal);
        Assert.Contains("id=\"chart-smr-gdmt-gap-1.1.0\"", page, StringComparison.Ordinal);
        Assert.Contains("<title>2026-W46: 2 shown</title>", page, StringComparison.Ordinal);
        Assert.Contains("height=\"55\" fill=\"#9e9e9e\"><title>2026-W46: 1 suppressed</title>", page, StringComparison.Ordinal);
        Assert.Equal(15, System.Text.RegularExpressions.Regex.Count(page, "<rect class=\"bar "));
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("style=", page, StringComparison.OrdinalIgnoreCase);

        // Auditors only.
        using var anonymous = service.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/audit/insights")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/audit/insights.csv")).StatusCode);
    }

    /// <summary>The figures are folded once per event and kept per day: read in two goes, with the feedback arriving after
    /// its cards were folded, they come out the same as read at once.</summary>
    public static async Task FiguresFoldedInTwoGoesMatchTheHistoryReadAtOnce(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        using (service.CreateClient())
        {
            // started: the schema is in place
        }
        var audit = service.Services.GetRequiredService<AuditStore>();
        using var auditor = service.AuditorClient();
        await audit.AppendAsync(History[..5], CancellationToken.None); // the hook calls of weeks 46
        var partial = await auditor.GetStringAsync("/audit/insights.csv?from=2026-11-09&to=2026-11-22");
        Assert.Contains("smr-coapt-profile,1.1.0,2026-W46,3,3,1,0,0,,2,0,1,0,0,,0,,,", partial, StringComparison.Ordinal);
        await audit.AppendAsync(History[5..], CancellationToken.None); // their feedback, and week 47
        Assert.Equal(ExpectedCsv, await auditor.GetStringAsync("/audit/insights.csv?from=2026-11-09&to=2026-11-22"));
        // A range of one day holds that day's calls only.
        var oneDay = await auditor.GetStringAsync("/audit/insights.csv?from=2026-11-17&to=2026-11-17");
        Assert.Equal(2, oneDay.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("smr-coapt-profile,1.1.0,2026-W47,1,1,1,", oneDay, StringComparison.Ordinal);
    }

    /// <summary>The fold counts what the service committed from the records in memory, not from their documents read back
    /// (100–120 µs of CPU each, against 18–25 from memory): on the charts the world sends (every realistic chart, every
    /// sample, on each hook, with feedback), those figures are the ones folded again from the stored documents, and the
    /// first fold read no document back.</summary>
    public static async Task FiguresFoldedFromWhatTheServiceCommittedMatchThoseReadBackFromItsRecords(Store store)
    {
        // Deadlines a loaded test machine cannot miss: a chart whose reads time out would be answered 412, not judged.
        await using var service = new ServiceFactory().Audited(store).With("CdsMitral:HookDeadline", "00:00:30").With("CdsMitral:FhirRequestTimeout", "00:00:30");
        await using var fhir = await FakeFhirServer.StartAsync();
        fhir.HonoursSearchParameters = true;
        var charts = Realistic.RealisticChart.Names().Select(Realistic.RealisticChart.Load).ToList();
        var answered = 0;
        foreach (var chart in charts)
        {
            fhir.Add(chart.Resources);
            foreach (var hook in chart.Expectations.Keys)
            {
                var response = hook switch
                {
                    "patient-view" => await service.PostAsync(Requests.PatientViewId, Requests.PatientView(chart.PatientId, null, fhir.BaseUrl)),
                    "order-sign" => await service.PostAsync(Requests.OrderSignId, Requests.OrderSign(chart.PatientId, chart.DraftOrders, null, fhir.BaseUrl)),
                    _ => await service.PostAsync(Requests.OrderSelectId, Requests.OrderSelect(chart.PatientId, chart.DraftOrders, chart.Selections, null, fhir.BaseUrl)),
                };
                Assert.True(response.Status == 200, $"{chart.Id} {hook}: {response.Status} {response.Body}");
                // Every other patient-view card answered: accepted where it suggests something, otherwise overridden as
                // already evaluated, which stands the card back when the chart is opened again.
                foreach (var card in hook == "patient-view" ? response.Cards.Where((_, i) => (answered + i) % 2 == 0) : [])
                {
                    await (card["suggestions"] is JsonArray { Count: > 0 }
                        ? service.AcceptAsync(card)
                        : service.OverrideAsync(card, StandBackScenarios.Ours, "already-evaluated-hvt"));
                }
                answered += hook == "patient-view" ? response.Cards.Count : 0;
            }
        }
        foreach (var chart in charts.Where(c => c.Expectations.ContainsKey("patient-view")))
        {
            Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Requests.PatientView(chart.PatientId, null, fhir.BaseUrl))).Status);
        }
        foreach (var (patient, request) in Samples.SamplePatients.All.SelectMany(p => p.Requests.Select(r => (p, r))))
        {
            Assert.Equal(200, (await service.PostAsync(Samples.SampleFiles.ServiceId(request.Hook), Samples.SampleFiles.Request(patient, request, prefetch: true))).Status);
        }
        Assert.True(answered > 20, $"only {answered} cards shown");

        using var auditor = service.AuditorClient();
        const string Range = "/audit/insights.csv?from=2026-11-20&to=2026-11-22";
        var fromMemory = await auditor.GetStringAsync(Range);
        var insights = service.Services.GetRequiredService<InsightsRollup>();
        Assert.Equal(0, insights.DocumentsReadBack);
        Assert.Equal(0, insights.Remembered);
        Assert.True(fromMemory.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 5, fromMemory);

        // The same events folded again, each from its stored document.
        var db = service.Services.GetRequiredService<AuditDatabase>();
        long events;
        await using (var connection = await db.OpenAsync(CancellationToken.None))
        {
            foreach (var table in new[] { "insight_answers", "insight_cards", "insight_findings", "insight_days" })
            {
                await AuditDatabase.Execute(connection, null, $"DELETE FROM {table}", CancellationToken.None);
            }
            await AuditDatabase.Execute(connection, null, "UPDATE insight_state SET through_seq = 0", CancellationToken.None);
            await using var count = AuditDatabase.Command(connection, null, "SELECT COUNT(*) FROM audit_events WHERE kind IN ('hook', 'feedback')");
            events = Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
        Assert.Equal(fromMemory, await auditor.GetStringAsync(Range));
        Assert.Equal(events, insights.DocumentsReadBack);
    }

    /// <summary>Under a stream of calls the fold is asked for once a chunk of them waits, not only every maintenance
    /// interval: more calls than the fold keeps in memory are all folded from memory, none read back. (The stream waits
    /// for the fold it asked for, as a clinic's calls do: this one is many times faster than a fold can follow.)</summary>
    public static async Task UnderAStreamOfCallsEachIsFoldedFromMemoryBeforeItWouldBeDropped(Store store)
    {
        await using var service = new ServiceFactory().Audited(store).With("CdsMitral:Audit:MaintenanceInterval", "01:00:00");
        using (service.CreateClient())
        {
            // started: the schema is in place
        }
        var writer = service.Services.GetRequiredService<AuditWriter>();
        var insights = service.Services.GetRequiredService<InsightsRollup>();
        const int Calls = InsightsRollup.MaxRemembered + InsightsRollup.Chunk;
        for (var sent = 0; sent < Calls; sent += 250)
        {
            await Task.WhenAll(Enumerable.Range(0, 250).Select(_ => writer.WriteAsync(InvocationAudit.Entry(
                new InvocationDraft(Requests.PatientViewId, ServiceFactory.Today), Service.Trust.CallingClient.Unverified, 200, null, 1))));
            for (var waited = 0; insights.Remembered >= InsightsRollup.Chunk; waited += 10)
            {
                Assert.True(waited < 30_000, $"{insights.Remembered} calls still wait to be folded after 30 s: no fold was asked for");
                await Task.Delay(10);
            }
        }
        using var auditor = service.AuditorClient();
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("/audit/insights.csv")).StatusCode); // folds what is left
        Assert.Equal(0, insights.Remembered);
        Assert.Equal(0, insights.DocumentsReadBack);
        await using var connection = await service.Services.GetRequiredService<AuditDatabase>().OpenAsync(CancellationToken.None);
        await using var through = AuditDatabase.Command(connection, null, "SELECT through_seq FROM insight_state");
        Assert.Equal(Calls, Convert.ToInt64(await through.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Two instances share a store: what one wrote and the other folded is dropped from the first one's memory
    /// at its next fold (by seq), not kept until it would crowd out new calls, and both read the same figures.</summary>
    public static async Task CallsAnotherInstanceFoldedAreDroppedFromMemory(Store store)
    {
        var schema = store == Store.Postgres ? AuditSupport.NewSchema() : null;
        await using var first = new ServiceFactory().Audited(store, schema).With("CdsMitral:Audit:MaintenanceInterval", "01:00:00");
        await using var second = new ServiceFactory().Audited(store, schema).With("CdsMitral:Audit:MaintenanceInterval", "01:00:00");
        if (store == Store.Sqlite)
        {
            // The first one's file and chain key; checkpoints of its own, as on PostgreSQL.
            second.With("CdsMitral:Audit:ConnectionString", Path.Combine(first.DataDirectory, "audit.db"))
                .With("CdsMitral:Audit:CheckpointPath", Path.Combine(second.DataDirectory, "audit-checkpoints.ndjson"));
        }
        using (first.CreateClient())
        using (second.CreateClient())
        {
            // both started: the schema is in place
        }
        var calls = 0;
        foreach (var (patient, request) in Samples.SamplePatients.All.SelectMany(p => p.Requests.Select(r => (p, r))))
        {
            Assert.Equal(200, (await first.PostAsync(Samples.SampleFiles.ServiceId(request.Hook), Samples.SampleFiles.Request(patient, request, prefetch: true))).Status);
            calls++;
        }
        var firstFold = first.Services.GetRequiredService<InsightsRollup>();
        var secondFold = second.Services.GetRequiredService<InsightsRollup>();
        Assert.Equal(calls, firstFold.Remembered);

        using var secondAuditor = second.AuditorClient();
        const string Range = "/audit/insights.csv?from=2026-11-20&to=2026-11-22";
        var folded = await secondAuditor.GetStringAsync(Range); // the second instance folds them, from their documents
        Assert.Equal(calls, secondFold.DocumentsReadBack);
        using var firstAuditor = first.AuditorClient();
        Assert.Equal(folded, await firstAuditor.GetStringAsync(Range));
        Assert.Equal(0, firstFold.Remembered);
        Assert.Equal(0, firstFold.DocumentsReadBack);
    }

    /// <summary>A CSV line's cells (quoted cells hold commas and doubled quotes).</summary>
    public static List<string> Cells(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var ch = line[i];
            if (quoted && ch == '"' && i + 1 < line.Length && line[i + 1] == '"')
            {
                cell.Append('"');
                i++;
            }
            else if (ch == '"')
            {
                quoted = !quoted;
            }
            else if (ch == ',' && !quoted)
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(ch);
            }
        }
        cells.Add(cell.ToString());
        return cells;
    }
}

/// <summary>The insights scenarios, listed once and run against each store as a class of its own (so that the two run in
/// parallel); the PostgreSQL class skips, saying why, where no server is configured.</summary>
public abstract class InsightsOnEachStore(Store store)
{
    [Fact] public Task EveryFigureAndCsvCellMatchesAKnownHistory() => InsightsScenarios.EveryFigureAndCsvCellMatchesAKnownHistory(Requires.Available(store));
    [Fact] public Task FiguresFoldedInTwoGoesMatchTheHistoryReadAtOnce() => InsightsScenarios.FiguresFoldedInTwoGoesMatchTheHistoryReadAtOnce(Requires.Available(store));
    [Fact] public Task CallsAnotherInstanceFoldedAreDroppedFromMemory() => InsightsScenarios.CallsAnotherInstanceFoldedAreDroppedFromMemory(Requires.Available(store));
    [Fact] public Task UnderAStreamOfCallsEachIsFoldedFromMemoryBeforeItWouldBeDropped() =>
        InsightsScenarios.UnderAStreamOfCallsEachIsFoldedFromMemoryBeforeItWouldBeDropped(Requires.Available(store));
    [Fact] public Task FiguresFoldedFromWhatTheServiceCommittedMatchThoseReadBackFromItsRecords() =>
        InsightsScenarios.FiguresFoldedFromWhatTheServiceCommittedMatchThoseReadBackFromItsRecords(Requires.Available(store));
}

public sealed class SqliteInsightsTests() : InsightsOnEachStore(Store.Sqlite);

public sealed class PostgresInsightsTests() : InsightsOnEachStore(Store.Postgres);

