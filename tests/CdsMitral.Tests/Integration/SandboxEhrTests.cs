using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Navigator;
using CdsMitral.Service.Navigator;
using CdsMitral.Tests.Navigator;
using CdsMitral.Tests.Support;
using Microsoft.Playwright;

namespace CdsMitral.Tests.Integration;

/// <summary>
/// The sandbox EHR an integrator starts with one command (tests/sandbox-ehr.sh: the Medplum FHIR server with its SMART
/// endpoints, the samples loaded by the CLI, the service beside it), driven in Chromium as the current CDS Hooks Sandbox
/// drives an EHR: from a page of its own origin it fires patient-view, registers the card's SMART link at
/// <c>{fhirServer}/_services/smart/Launch</c>, and opens <c>{link.url}?launch={launch_id}&amp;iss={fhirServer}</c>, unencoded.
/// </summary>
[Slow]
public sealed class SandboxEhrTests
{
    private const string Patient = "coapt-profile";

    [Fact]
    public async Task The_Sandboxs_card_link_opens_the_Navigator_on_the_cards_patient_and_what_it_saves_lands_in_the_sandbox_EHR()
    {
        Requires.SandboxEhr();
        await using var ehr = await SandboxEhr.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        // The Sandbox's page: a loopback origin of its own that nobody configured, as a locally run Sandbox has.
        var sandboxOrigin = $"http://localhost:{SandboxEhr.FreePort()}";
        using var sandboxPage = new HttpListener();
        sandboxPage.Prefixes.Add(sandboxOrigin + "/");
        sandboxPage.Start();
        var serving = Task.Run(async () =>
        {
            var request = await sandboxPage.GetContextAsync();
            request.Response.ContentType = "text/html";
            await request.Response.OutputStream.WriteAsync("<!doctype html><title>CDS Hooks Sandbox</title>"u8.ToArray());
            request.Response.Close();
        });
        await page.GotoAsync(sandboxOrigin + "/");
        await serving;

        var launched = JsonNode.Parse(await page.EvaluateAsync<string>("""
            async ([fhir, service, patient]) => { let step = 'firing patient-view'; try {
              const hook = await fetch(service + '/cds-services/secondary-mr-patient-view', { method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ hook: 'patient-view', hookInstance: crypto.randomUUID(), fhirServer: fhir,
                  context: { patientId: patient, userId: 'Practitioner/sandbox-clinician' } }) });
              const cards = (await hook.json()).cards;
              const card = cards.find(c => c.source.topic && c.source.topic.code === 'smr-coapt-profile');
              if (!card) return JSON.stringify({ error: 'no COAPT-like card: ' + cards.map(c => c.summary).join(' | ') });
              const link = card.links.find(l => l.type === 'smart');
              step = 'registering the launch';
              const answer = await fetch(fhir + '/_services/smart/Launch', { method: 'POST',
                headers: { 'Accept': 'application/json', 'Content-Type': 'application/json' },
                body: JSON.stringify({ launchUrl: link.url,
                  parameters: { patient, smart_messaging_origin: location.origin, appContext: link.appContext } }) });
              if (!answer.ok) return JSON.stringify({ error: 'launch registration answered ' + answer.status });
              var registered = await answer.json();
              return JSON.stringify({ card: card.uuid, url: link.url + '?launch=' + registered.launch_id + '&iss=' + fhir });
            } catch (e) { return JSON.stringify({ error: step + ': ' + e }); } }
            """, new[] { ehr.FhirBase, ehr.ServiceBase, Patient }))!;
        Assert.True(launched["error"] is null, launched.ToJsonString());

        await page.GotoAsync((string)launched["url"]!);
        Assert.Equal($"{ehr.ServiceBase}/navigator/step/{StepIds.All[0]}", page.Url);
        // The right patient, named as the EHR names them, on the first page.
        Assert.Equal($"Patient: {Patient} Sample · born", (await page.InnerTextAsync(".patient-banner"))[..$"Patient: {Patient} Sample · born".Length]);
        Assert.Contains($"Patient/{Patient}", await page.InnerTextAsync(".patient-banner"), StringComparison.Ordinal);

        for (var step = 1; step <= StepIds.All.Count; step++)
        {
            foreach (var (question, answer) in LaunchBrowserTests.ClinicianAnswers)
            {
                var option = page.Locator($"input[name='{question}'][value='{answer}']");
                if (await option.CountAsync() == 1)
                {
                    await option.CheckAsync();
                }
            }
            await page.GetByRole(AriaRole.Button, new() { Name = step < StepIds.All.Count ? "Save and continue" : "Save and see the result" }).ClickAsync();
        }
        Assert.Contains(NavigatorPathway.TitleOf(PathwayResult.CoaptLikeReferToHeartValveTeam), await page.InnerTextAsync("main"), StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Button, new() { Name = NavigatorOutputs.SaveAndProposeLabel }).ClickAsync();
        Assert.Equal("Saved to the EHR", await page.InnerTextAsync("h1"));

        // What the button said is in the sandbox EHR: the answers and a draft proposal, for this patient.
        using var http = new HttpClient();
        var answers = JsonNode.Parse(await http.GetStringAsync($"{ehr.FhirBase}/QuestionnaireResponse?subject=Patient/{Patient}"))!;
        Assert.Single(answers["entry"]!.AsArray());
        var proposal = Assert.Single(JsonNode.Parse(await http.GetStringAsync($"{ehr.FhirBase}/ServiceRequest?subject=Patient/{Patient}"))!["entry"]!.AsArray())!["resource"]!;
        Assert.Equal("draft", (string?)proposal["status"]);
        Assert.Equal("proposal", (string?)proposal["intent"]);
        // The Navigator read and wrote with the token the EHR issued for this launch.
        var smart = JsonNode.Parse(await http.GetStringAsync(ehr.FhirBase[..^"/fhir".Length] + "/__stats"))!["smart"]!;
        Assert.Equal(1, (int)smart["launchesRegistered"]!);
        Assert.Equal(1, (int)smart["tokensIssued"]!);
        Assert.True((int)smart["requestsWithIssuedToken"]! >= 2, smart.ToJsonString());

        // The EHR handed the card's appContext back with the token: the audit names the card that opened the session.
        var events = await ehr.NavigatorEventsAsync();
        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.Contains($"\"Card\":\"{(string)launched["card"]!}\"", e, StringComparison.Ordinal));
        Assert.All(events, e => Assert.DoesNotContain("\"Inferred\":\"", e, StringComparison.Ordinal));
    }

    /// <summary>The sandbox EHR's authorization server is a sandbox, but it catches what a wrong client sends, so that an app
    /// that works against it is not wrong in a way a production EHR will refuse.</summary>
    [Fact]
    public async Task The_sandbox_EHR_refuses_a_wrong_aud_an_unregistered_launch_no_PKCE_a_wrong_verifier_and_a_code_used_twice()
    {
        Requires.SandboxEhr(browser: false);
        await using var server = await RealFhirServer.StartAsync(local: true);
        var origin = server.BaseUrl[..^"/fhir".Length];
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        const string redirect = "http://127.0.0.1:9/callback";
        const string verifier = "a-verifier-of-forty-three-characters-or-more-000";
        var challenge = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

        var config = JsonNode.Parse(await http.GetStringAsync(server.BaseUrl + "/.well-known/smart-configuration"))!;
        Assert.Equal(origin + "/auth/authorize", (string?)config["authorization_endpoint"]);
        Assert.Contains("S256", config["code_challenge_methods_supported"]!.AsArray().Select(v => (string?)v));
        Assert.Contains("launch-ehr", config["capabilities"]!.AsArray().Select(v => (string?)v));

        using var bad = await http.PostAsync(server.BaseUrl + "/_services/smart/Launch", new StringContent("""{"parameters":{"patient":"../x"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var registered = await http.PostAsync(server.BaseUrl + "/_services/smart/Launch", new StringContent(
            """{"launchUrl":"http://127.0.0.1:9/navigator/launch","parameters":{"patient":"p1","appContext":"{\"card\":\"c-1\"}"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        var launch = (string)JsonNode.Parse(await registered.Content.ReadAsStringAsync())!["launch_id"]!;

        async Task<Dictionary<string, string>> Authorize(string aud, string launchId, bool pkce = true)
        {
            var query = $"response_type=code&client_id=app&redirect_uri={Uri.EscapeDataString(redirect)}&scope={Uri.EscapeDataString("launch openid fhirUser patient/*.rs")}" +
                $"&state=s-1&aud={Uri.EscapeDataString(aud)}&launch={launchId}" + (pkce ? $"&code_challenge={challenge}&code_challenge_method=S256" : "");
            using var answer = await http.GetAsync($"{origin}/auth/authorize?{query}");
            Assert.Equal(HttpStatusCode.Found, answer.StatusCode);
            var back = answer.Headers.Location!;
            Assert.StartsWith(redirect, back.AbsoluteUri, StringComparison.Ordinal);
            return System.Web.HttpUtility.ParseQueryString(back.Query).AllKeys.ToDictionary(k => k!, k => System.Web.HttpUtility.ParseQueryString(back.Query)[k]!);
        }
        async Task<(HttpStatusCode Status, JsonNode Body)> Token(string code, string codeVerifier)
        {
            using var answer = await http.PostAsync(origin + "/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = redirect, ["client_id"] = "app", ["code_verifier"] = codeVerifier,
            }));
            return (answer.StatusCode, JsonNode.Parse(await answer.Content.ReadAsStringAsync())!);
        }

        Assert.Equal("invalid_request", (await Authorize("http://elsewhere.example/fhir", launch))["error"]);
        Assert.Equal("invalid_request", (await Authorize(server.BaseUrl, "not-registered"))["error"]);
        Assert.Equal("invalid_request", (await Authorize(server.BaseUrl, launch, pkce: false))["error"]);

        var first = await Authorize(server.BaseUrl, launch);
        Assert.Equal("s-1", first["state"]);
        var wrong = await Token(first["code"], verifier + "x");
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (wrong.Status, (string?)wrong.Body["error"]));
        Assert.Equal(HttpStatusCode.BadRequest, (await Token(first["code"], verifier)).Status); // a code is good once, even after a failure

        var second = await Authorize(server.BaseUrl, launch);
        var granted = await Token(second["code"], verifier);
        Assert.Equal(HttpStatusCode.OK, granted.Status);
        Assert.Equal("p1", (string?)granted.Body["patient"]);
        Assert.Equal("""{"card":"c-1"}""", (string?)granted.Body["appContext"]);
        Assert.Equal("Practitioner/sandbox-clinician", new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken((string)granted.Body["id_token"]!).GetPayloadValue<string>("fhirUser"));
        Assert.Equal(HttpStatusCode.BadRequest, (await Token(second["code"], verifier)).Status);

        // The FHIR server (started with a token of its own) takes the issued token and no made-up one.
        using var read = new HttpRequestMessage(HttpMethod.Get, server.BaseUrl + "/Patient?_count=1");
        read.Headers.Authorization = new("Bearer", (string)granted.Body["access_token"]!);
        using var allowed = await http.SendAsync(read);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        using var forged = new HttpRequestMessage(HttpMethod.Get, server.BaseUrl + "/Patient?_count=1");
        forged.Headers.Authorization = new("Bearer", "made-up");
        using var refused = await http.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}

/// <summary>tests/sandbox-ehr.sh as an integrator runs it, on free ports, with the built service and CLI.</summary>
internal sealed class SandboxEhr : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _data;

    private SandboxEhr(Process process, string data, int ehrPort, int servicePort)
    {
        _process = process;
        _data = data;
        FhirBase = $"http://127.0.0.1:{ehrPort}/fhir";
        ServiceBase = $"http://localhost:{servicePort}";
    }

    public string FhirBase { get; }
    public string ServiceBase { get; }

    public static async Task<SandboxEhr> StartAsync()
    {
        var data = Path.Combine(Path.GetTempPath(), "cdsmitral-sandbox-ehr", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var (ehrPort, servicePort) = (FreePort(), FreePort());
        var start = new ProcessStartInfo("bash", [Repo.PathOf("tests", "sandbox-ehr.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["EHR_PORT"] = ehrPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["SERVICE_PORT"] = servicePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["CDSMITRAL_SERVICE"] = "dotnet " + Path.Combine(AppContext.BaseDirectory, "CdsMitral.Service.dll");
        start.Environment["CDSMITRAL_CLI"] = "dotnet " + Path.Combine(AppContext.BaseDirectory, "CdsMitral.Cli.dll");
        start.Environment["CdsMitral__Audit__ConnectionString"] = Path.Combine(data, "audit.db");
        start.Environment["CdsMitral__Audit__SpoolPath"] = Path.Combine(data, "spool.ndjson");
        start.Environment["Logging__LogLevel__Default"] = "Error";
        start.Environment["NO_COLOR"] = "1";
        var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginErrorReadLine();
        var ehr = new SandboxEhr(process, data, ehrPort, servicePort);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
                if (line.StartsWith("sandbox EHR ready", StringComparison.Ordinal))
                {
                    _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None); // keep draining
                    return ehr;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        await ehr.DisposeAsync();
        lock (output)
        {
            throw new InvalidOperationException($"tests/sandbox-ehr.sh did not get ready:\n{output}");
        }
    }

    /// <summary>The Navigator's events in the service's audit chain, oldest first.</summary>
    public async Task<List<string>> NavigatorEventsAsync()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_data, "audit.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT document FROM audit_events WHERE kind = '{NavigatorEndpoints.AuditKind}' ORDER BY seq";
        var documents = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            documents.Add(reader.GetString(0));
        }
        return documents;
    }

    public static int FreePort() => ServiceProcess.FreePort();

    public ValueTask DisposeAsync() => new(ServiceProcess.StopAsync(_process, _data));
}
