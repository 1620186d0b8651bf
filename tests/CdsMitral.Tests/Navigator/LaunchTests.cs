using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CdsMitral.Navigator;
using CdsMitral.Service.Navigator;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;
using CdsMitral.Tests.Audit;

namespace CdsMitral.Tests.Navigator;

/// <summary>The Navigator's SMART EHR launch over HTTP, against OpenIddict as the EHR's authorization server and the
/// fake FHIR server: the browser is an HttpClient with cookies that follows redirects by hand.</summary>
public sealed partial class LaunchTests : IAsyncLifetime
{
    private const string Callback = "https://cds.example.org/navigator/callback";
    private readonly ServiceFactory _service = new();
    private FakeFhirServer _fhir = null!;
    private SmartAuthorizationServer _auth = null!;

    public async ValueTask InitializeAsync()
    {
        _fhir = await FakeFhirServer.StartAsync();
        _auth = await SmartAuthorizationServer.StartAsync(Callback, new NavigatorOptions().ReadAndWriteScope + " launch/patient");
        _fhir.SmartConfiguration = _auth.SmartConfiguration();
        _fhir.Add(new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt().Resources);
        // The EHR's transaction endpoint answers the write-back.
        _fhir.Responder = (request, _) => request.Method == "POST"
            ? new FakeReply(200, """{"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"201 Created"}},{"response":{"status":"201 Created"}}]}""")
            : null;
    }

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync();
        await _fhir.DisposeAsync();
        await _auth.DisposeAsync();
    }

    private HttpClient Browser(WebApplicationFactory<Program>? service = null) => (service ?? _service).CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        HandleCookies = true,
        BaseAddress = new Uri("https://localhost"),
    });

    private static readonly HttpClient AuthBrowser = new(new HttpClientHandler { AllowAutoRedirect = false });

    /// <summary>launch → the authorization server's redirect back to the Navigator's callback (its URL, not yet followed).</summary>
    private async Task<(HttpResponseMessage Launch, Uri Authorize, Uri CallbackUrl)> LaunchAsync(HttpClient browser, Func<Uri, Uri>? tamper = null)
    {
        var launch = await browser.GetAsync($"/navigator/launch?iss={Uri.EscapeDataString(_fhir.BaseUrl)}&launch=launch-123");
        Assert.Equal(HttpStatusCode.Redirect, launch.StatusCode);
        var authorize = launch.Headers.Location!;
        using var answer = await AuthBrowser.GetAsync(tamper is null ? authorize : tamper(authorize));
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        var back = answer.Headers.Location!;
        Assert.StartsWith(Callback, back.AbsoluteUri, StringComparison.Ordinal);
        return (launch, authorize, back);
    }

    private static string CallbackPathAndQuery(Uri callback) => callback.PathAndQuery;

    private static (string Name, string Value) Antiforgery(string html)
    {
        var m = HiddenInput().Match(html);
        Assert.True(m.Success, "The page has no antiforgery field.");
        return (m.Groups[1].Value, WebUtility.HtmlDecode(m.Groups[2].Value));
    }

    /// <summary>What an EHR grants when it lets the Navigator read the chart but create nothing.</summary>
    private static readonly string[] ReadOnlyScopes =
        ["launch", "openid", "fhirUser", "patient/Observation.rs", "patient/MedicationRequest.rs", "patient/Condition.rs", "patient/Procedure.rs", "patient/MedicationStatement.rs"];

    /// <summary>Posts the write-back form with the antiforgery token of <paramref name="pageHtml"/>, as the browser would.</summary>
    private static Task<HttpResponseMessage> WriteBackAsync(HttpClient browser, string pageHtml)
    {
        var (name, value) = Antiforgery(pageHtml);
        return browser.PostAsync("/navigator/write-back", new FormUrlEncodedContent([new(name, value)]));
    }

    [Fact]
    public async Task An_EHR_launch_walks_every_step_to_the_result_and_summary_and_writes_back_while_the_token_stays_on_the_server()
    {
        var logs = new LogCapture();
        _service.With("Logging:LogLevel:Default", "Trace");
        await using var logged = _service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddLogging(l => l.AddProvider(logs))));
        using var browser = Browser(logged);
        var (launch, authorize, back) = await LaunchAsync(browser);
        var asked = QueryHelpers.ParseQuery(authorize.Query);
        Assert.Equal("code", asked["response_type"]);
        Assert.Equal(SmartAuthorizationServer.ClientId, asked["client_id"]);
        Assert.Equal(Callback, asked["redirect_uri"]);
        Assert.Equal(_fhir.BaseUrl, asked["aud"]);
        Assert.Equal("launch-123", asked["launch"]);
        Assert.Equal("S256", asked["code_challenge_method"]);
        Assert.Contains("patient/QuestionnaireResponse.c", asked["scope"].ToString(), StringComparison.Ordinal);
        Assert.True(asked["state"].ToString().Length >= 40);

        var pages = new List<string>();
        var setCookies = launch.Headers.GetValues("Set-Cookie").ToList();
        var callback = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        setCookies.AddRange(callback.Headers.GetValues("Set-Cookie"));
        var location = callback.Headers.Location!.OriginalString;
        Assert.Equal("/navigator/step/" + StepIds.All[0], location);

        var token = Assert.Single(_auth.IssuedTokens);
        var reads = _fhir.Requests.Where(r => r.Method == "GET" && !r.PathAndQuery.Contains(".well-known", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(reads);
        Assert.All(reads, r => Assert.Equal("Bearer " + token, r.Authorization));

        var steps = 0;
        while (location.StartsWith("/navigator/step/", StringComparison.Ordinal))
        {
            using var page = await browser.GetAsync(location);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal(NavigatorPages.ContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
            var html = await page.Content.ReadAsStringAsync();
            pages.Add(html);
            var (name, value) = Antiforgery(html);
            var form = new List<KeyValuePair<string, string>> { new(name, value), new("step", location["/navigator/step/".Length..]), new("go", "next") };
            // Answer each question with its first option (the setting as chronic, or the acute branch would end the walk at
            // step 1): the answers travel through NavigatorForms into the pathway.
            foreach (var group in RadioInput().Matches(html).Where(m => m.Groups[2].Value.Length > 0).GroupBy(m => m.Groups[1].Value))
            {
                form.Add(new(group.Key, group.Key == NavigatorQuestions.Acute ? "no" : WebUtility.HtmlDecode(group.First().Groups[2].Value)));
            }
            using var posted = await browser.PostAsync(location, new FormUrlEncodedContent(form));
            Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
            location = posted.Headers.Location!.OriginalString;
            steps++;
        }
        Assert.Equal(StepIds.All.Count, steps);
        Assert.Equal("/navigator/result", location);

        using var result = await browser.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        var resultHtml = await result.Content.ReadAsStringAsync();
        pages.Add(resultHtml);
        Assert.Contains("Where the patient stands", resultHtml, StringComparison.Ordinal);
        Assert.Contains(SmartAuthorizationServer.User, resultHtml, StringComparison.Ordinal);
        using var summary = await browser.GetAsync("/navigator/summary");
        Assert.Equal(HttpStatusCode.OK, summary.StatusCode);
        var summaryHtml = await summary.Content.ReadAsStringAsync();
        pages.Add(summaryHtml);
        Assert.Contains("Heart Valve Team referral summary", summaryHtml, StringComparison.Ordinal);
        Assert.Contains("Patient/p1", summaryHtml, StringComparison.Ordinal);
        using var patientPage = await browser.GetAsync("/navigator/patient");
        Assert.Equal(HttpStatusCode.OK, patientPage.StatusCode);
        using var css = await browser.GetAsync(NavigatorPages.StylesheetPath);
        Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);

        using var written = await WriteBackAsync(browser, resultHtml);
        Assert.Equal(HttpStatusCode.OK, written.StatusCode);
        var post = Assert.Single(_fhir.Requests, r => r.Method == "POST");
        Assert.Equal("Bearer " + token, post.Authorization);

        // Nothing of the token reaches the browser: not in a page, not in a cookie; every cookie is HttpOnly, Lax, Secure.
        Assert.All(pages, p => Assert.DoesNotContain(token, p, StringComparison.Ordinal));
        Assert.All(setCookies, c => Assert.DoesNotContain(token, c, StringComparison.Ordinal));
        Assert.All(setCookies.Where(c => c.StartsWith(NavigatorEndpoints.SessionCookie + "=", StringComparison.Ordinal)), c =>
        {
            Assert.Contains("httponly", c, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=lax", c, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("secure", c, StringComparison.OrdinalIgnoreCase);
        });
        Assert.Contains(setCookies, c => c.StartsWith(NavigatorEndpoints.SessionCookie + "=", StringComparison.Ordinal));

        // One audit event for the result, in the hooks' chain: who, which patient, the answers, the result; never the token.
        var stored = await AuditSupport.EverythingStored(_service, Store.Sqlite);
        Assert.Contains("\"Patient\":\"p1\"", stored, StringComparison.Ordinal);
        Assert.Contains($"\"User\":\"{SmartAuthorizationServer.User}\"", stored, StringComparison.Ordinal);
        // Counted over the stored events, not the raw file: SQLite's write-ahead log holds a page again each time a later event lands on it.
        Assert.Single((await NavigatorEventsAsync()).SelectMany(e => Regex.Matches(e, "\"Result\":\"[^\"]+\",\"Answers\":\\[\\{")));
        Assert.DoesNotContain(token, stored, StringComparison.Ordinal);
        Assert.NotEmpty(logs.Lines);
        Assert.All(logs.Lines, line => Assert.DoesNotContain(token, line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_callback_whose_state_was_started_in_another_browser_gets_a_clear_page_and_no_token_is_asked_for()
    {
        using var victim = Browser();
        var (_, _, back) = await LaunchAsync(victim);
        using var attacker = Browser();
        using var answer = await attacker.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("does not match a launch", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_auth.IssuedTokens);
        Assert.DoesNotContain(_fhir.Requests, r => r.Authorization is not null);
        // The state was single use: the right browser cannot replay it either.
        using var replay = await victim.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        using var step = await attacker.GetAsync("/navigator/step/" + StepIds.All[0]);
        Assert.Equal(HttpStatusCode.Unauthorized, step.StatusCode);
    }

    [Fact]
    public async Task A_code_challenge_that_does_not_match_the_verifier_is_refused_by_the_authorization_server_and_nothing_is_read_or_written()
    {
        using var browser = Browser();
        // Someone swaps the challenge on the way to the authorization server: the Navigator's verifier no longer fits.
        var (_, _, back) = await LaunchAsync(browser, authorize => new Uri(Regex.Replace(authorize.AbsoluteUri, "code_challenge=[^&]+",
            "code_challenge=" + System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.SHA256.HashData("another-verifier-of-sufficient-length-000000"u8.ToArray())))));
        using var answer = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        var html = await answer.Content.ReadAsStringAsync();
        Assert.Contains("did not issue a token", html, StringComparison.Ordinal);
        Assert.Contains("Nothing was written", html, StringComparison.Ordinal);
        Assert.Empty(_auth.IssuedTokens);
        Assert.DoesNotContain(_fhir.Requests, r => r.Authorization is not null || r.Method == "POST");
    }

    [Fact]
    public async Task A_standalone_launch_asks_the_EHR_to_pick_the_patient_and_reads_the_one_it_names_with_the_issued_token()
    {
        using var browser = Browser();
        // Opened from the EHR's app list or a bookmark: only iss, no launch.
        using var launch = await browser.GetAsync($"/navigator/launch?iss={Uri.EscapeDataString(_fhir.BaseUrl)}");
        Assert.Equal(HttpStatusCode.Redirect, launch.StatusCode);
        var asked = QueryHelpers.ParseQuery(launch.Headers.Location!.Query);
        Assert.False(asked.ContainsKey("launch"));
        var scopes = asked["scope"].ToString().Split(' ');
        Assert.Contains("launch/patient", scopes);
        Assert.DoesNotContain("launch", scopes);
        Assert.Equal(_fhir.BaseUrl, asked["aud"]);
        using var answer = await AuthBrowser.GetAsync(launch.Headers.Location);
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        using var callback = await browser.GetAsync(CallbackPathAndQuery(answer.Headers.Location!));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/navigator/step/" + StepIds.All[0], callback.Headers.Location!.OriginalString);
        var token = Assert.Single(_auth.IssuedTokens);
        var reads = _fhir.Requests.Where(r => r.Method == "GET" && !r.PathAndQuery.Contains(".well-known", StringComparison.Ordinal)).ToList();
        Assert.Contains(reads, r => r.PathAndQuery.Contains(_auth.Patient, StringComparison.Ordinal));
        Assert.All(reads, r => Assert.Equal("Bearer " + token, r.Authorization));
        using var window = await browser.GetAsync("/navigator/step/" + StepIds.Window);
        Assert.Contains("58", await window.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_clinician_who_declines_at_the_EHR_gets_a_clear_page_and_nothing_is_read()
    {
        _auth.Decline = true;
        using var browser = Browser();
        var (_, _, back) = await LaunchAsync(browser);
        using var answer = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Contains("Access was declined", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(_fhir.Requests, r => r.Authorization is not null);
    }

    [Fact]
    public async Task A_launch_naming_a_FHIR_server_the_hooks_may_not_use_is_refused_before_any_connection()
    {
        using var browser = Browser();
        using var answer = await browser.GetAsync("/navigator/launch?iss=" + Uri.EscapeDataString("https://stranger.example.net/fhir") + "&launch=x");
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Contains("stranger.example.net", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_fhir.Requests);
    }

    [Fact]
    public async Task Without_the_create_scopes_the_result_offers_no_write_back_and_a_post_says_the_EHR_did_not_grant_it()
    {
        _auth.GrantedScopes = ReadOnlyScopes;
        using var browser = Browser();
        var (_, _, back) = await LaunchAsync(browser);
        using var callback = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        using var result = await browser.GetAsync("/navigator/result");
        var html = await result.Content.ReadAsStringAsync();
        Assert.DoesNotContain("/navigator/write-back", html, StringComparison.Ordinal);
        using var step = await browser.GetAsync("/navigator/step/" + StepIds.All[0]);
        using var written = await WriteBackAsync(browser, await step.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, written.StatusCode);
        Assert.Contains("did not grant", await written.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(_fhir.Requests, r => r.Method == "POST");
    }

    /// <summary>Decision 26: an authorization server that refuses the write scopes (invalid_scope) rather than grant fewer is
    /// asked again for reading alone, and the Navigator opens read-only and says saving is unavailable.</summary>
    [Fact]
    public async Task An_authorization_server_that_refuses_the_write_scopes_is_asked_again_for_reading_and_the_Navigator_opens_read_only()
    {
        await using var readOnly = await SmartAuthorizationServer.StartAsync(Callback, new NavigatorOptions().ReadAndWriteScope + " launch/patient");
        readOnly.RefusedScopes = new NavigatorOptions().WriteScope.Split(' ');
        await using var fhir = await FakeFhirServer.StartAsync();
        fhir.SmartConfiguration = readOnly.SmartConfiguration();
        fhir.Add(new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt().Resources);
        using var browser = Browser();
        using var launch = await browser.GetAsync($"/navigator/launch?iss={Uri.EscapeDataString(fhir.BaseUrl)}&launch=launch-123");
        var first = QueryHelpers.ParseQuery(launch.Headers.Location!.Query);
        Assert.Contains("patient/ServiceRequest.c", first["scope"].ToString(), StringComparison.Ordinal);
        using var refused = await AuthBrowser.GetAsync(launch.Headers.Location);
        Assert.True(refused.Headers.Location is not null, $"{(int)refused.StatusCode} {await refused.Content.ReadAsStringAsync()}");
        Assert.Contains("error=invalid_scope", refused.Headers.Location!.Query, StringComparison.Ordinal);
        // The Navigator's callback turns the refusal into a second request, for reading only, with the same launch.
        using var again = await browser.GetAsync(CallbackPathAndQuery(refused.Headers.Location!));
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        var second = QueryHelpers.ParseQuery(again.Headers.Location!.Query);
        Assert.DoesNotContain(".c", second["scope"].ToString().Split(' ').Select(x => x[^2..]));
        Assert.Contains("patient/Observation.rs", second["scope"].ToString(), StringComparison.Ordinal);
        Assert.Equal("launch-123", second["launch"]);
        using var granted = await AuthBrowser.GetAsync(again.Headers.Location);
        using var callback = await browser.GetAsync(CallbackPathAndQuery(granted.Headers.Location!));
        Assert.Equal("/navigator/step/" + StepIds.All[0], callback.Headers.Location!.OriginalString);
        using var result = await browser.GetAsync("/navigator/result");
        var html = await result.Content.ReadAsStringAsync();
        Assert.Contains("Saving to the EHR is unavailable: the EHR granted this session read access only", html, StringComparison.Ordinal);
        Assert.DoesNotContain("name=\"propose\"", html, StringComparison.Ordinal);
        Assert.Single(readOnly.IssuedTokens);
    }

    [Fact]
    public async Task A_FHIR_server_that_refuses_the_granted_scope_gets_a_clear_page_and_no_session_starts()
    {
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("/Observation", StringComparison.Ordinal)
            ? new FakeReply(403, """{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden"}]}""")
            : null;
        using var browser = Browser();
        var (_, _, back) = await LaunchAsync(browser);
        using var answer = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Contains("refused to let the Navigator read", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var step = await browser.GetAsync("/navigator/step/" + StepIds.All[0]);
        Assert.Equal(HttpStatusCode.Unauthorized, step.StatusCode);
        Assert.DoesNotContain(_fhir.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task An_expired_session_gets_a_clear_page_and_its_write_back_is_refused_with_nothing_written()
    {
        _service.With("CdsMitral:Navigator:SessionLifetime", "00:00:02");
        using var browser = Browser();
        var (_, _, back) = await LaunchAsync(browser);
        using var callback = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        using var step = await browser.GetAsync("/navigator/step/" + StepIds.All[0]);
        Assert.Equal(HttpStatusCode.OK, step.StatusCode);
        var stepHtml = await step.Content.ReadAsStringAsync();
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using var later = await browser.GetAsync("/navigator/result");
        Assert.Equal(HttpStatusCode.Unauthorized, later.StatusCode);
        Assert.Contains("session has ended", await later.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var written = await WriteBackAsync(browser, stepHtml);
        Assert.Equal(HttpStatusCode.Unauthorized, written.StatusCode);
        Assert.DoesNotContain(_fhir.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task The_callbacks_code_and_state_appear_in_no_log_line_even_with_request_logging_at_trace()
    {
        var logs = new LogCapture();
        // As an operator chasing a launch problem would: ASP.NET's request lines on (appsettings keeps them at Warning).
        _service.With("Logging:LogLevel:Default", "Trace").With("Logging:LogLevel:Microsoft.AspNetCore", "Trace");
        await using var logged = _service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddLogging(l => l.AddProvider(logs))));
        using var browser = Browser(logged);
        var (_, _, back) = await LaunchAsync(browser);
        using var callback = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        var query = QueryHelpers.ParseQuery(back.Query);
        var (code, state) = (query["code"].ToString(), query["state"].ToString());
        Assert.True(code.Length > 20 && state.Length > 20);
        // The callback was logged (ASP.NET's request lines, the OAuth handler's own), just not its secrets.
        Assert.Contains(logs.Lines, l => l.Contains("/navigator/callback", StringComparison.Ordinal) && l.Contains("code=", StringComparison.Ordinal));
        Assert.All(logs.Lines, line => Assert.DoesNotContain(code, line, StringComparison.Ordinal));
        Assert.All(logs.Lines, line => Assert.DoesNotContain(state, line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_Sandboxs_open_server_launch_reads_the_chart_without_a_token_offers_no_write_back_and_is_audited_as_open()
    {
        _service.With("CdsMitral:Navigator:AllowOpenServerLaunch", "true");
        using var browser = Browser();
        // Exactly as the Sandbox's card.jsx builds it: both values appended to the link unencoded, no iss, no launch.
        using var launch = await browser.GetAsync($"/navigator/launch?fhirServiceUrl={_fhir.BaseUrl}&patientId=p1");
        Assert.Equal(HttpStatusCode.Redirect, launch.StatusCode);
        Assert.Equal("/navigator/step/" + StepIds.All[0], launch.Headers.Location!.OriginalString);
        Assert.Empty(_auth.AuthorizeRequests);
        var reads = _fhir.Requests.Where(r => r.Method == "GET").ToList();
        Assert.NotEmpty(reads);
        Assert.All(reads, r => Assert.Null(r.Authorization));
        Assert.DoesNotContain(reads, r => r.PathAndQuery.Contains(".well-known", StringComparison.Ordinal));

        using var result = await browser.GetAsync("/navigator/result");
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        var html = await result.Content.ReadAsStringAsync();
        Assert.DoesNotContain("/navigator/write-back", html, StringComparison.Ordinal);
        Assert.Contains("open FHIR server without authorization", html, StringComparison.Ordinal);
        // The result has no form to take a token from; a step page's stands in for a hand-made POST.
        using var step = await browser.GetAsync("/navigator/step/" + StepIds.All[0]);
        using var written = await WriteBackAsync(browser, await step.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, written.StatusCode);
        Assert.Contains("Nothing is saved to an open FHIR server", await written.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(_fhir.Requests, r => r.Method == "POST");

        var stored = await AuditSupport.EverythingStored(_service, Store.Sqlite);
        Assert.Contains($"\"User\":\"{NavigatorEndpoints.OpenServerUser}\"", stored, StringComparison.Ordinal);
        Assert.Contains("\"WriteBack\":{\"Outcome\":\"none: open FHIR server, no authorization\",\"Status\":null,\"Created\":null},\"Access\":\"open FHIR server, no authorization\"", stored, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://stranger.example.net/fhir", "stranger.example.net")]
    [InlineData("{fhir-with-userinfo}", "user information")]
    [InlineData("http://192.168.10.20/fhir", "192.168.10.20")]
    [InlineData("http://10.0.0.7:8080/fhir", "10.0.0.7")]
    public async Task An_open_server_launch_naming_a_FHIR_server_the_hooks_may_not_use_gets_a_clear_400_page_and_nothing_is_fetched(string server, string named)
    {
        _service.With("CdsMitral:Navigator:AllowOpenServerLaunch", "true");
        server = server.Replace("{fhir-with-userinfo}", _fhir.BaseUrl.Replace("http://", "http://admin:s3cret@", StringComparison.Ordinal), StringComparison.Ordinal);
        using var browser = Browser();
        using var answer = await browser.GetAsync($"/navigator/launch?fhirServiceUrl={server}&patientId=p1");
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        var html = await answer.Content.ReadAsStringAsync();
        Assert.Contains("This FHIR server is not allowed", html, StringComparison.Ordinal);
        Assert.Contains(named, html, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", html, StringComparison.Ordinal);
        Assert.Empty(_fhir.Requests);
        using var step = await browser.GetAsync("/navigator/step/" + StepIds.All[0]);
        Assert.Equal(HttpStatusCode.Unauthorized, step.StatusCode);
    }

    [Fact]
    public async Task An_open_server_launch_is_refused_with_a_clear_page_unless_it_is_turned_on()
    {
        using var browser = Browser();
        using var answer = await browser.GetAsync($"/navigator/launch?fhirServiceUrl={_fhir.BaseUrl}&patientId=p1");
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Contains("Open FHIR server launches are off", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_fhir.Requests);
    }

    /// <summary>Another instance of the service on the same audit database and Data Protection keys (or this one restarted).</summary>
    private ServiceFactory SecondInstance(string keys)
    {
        var second = new ServiceFactory()
            .With("CdsMitral:Audit:ConnectionString", Path.Combine(_service.DataDirectory, "audit.db"))
            .With("CdsMitral:Audit:CheckpointPath", Path.Combine(_service.DataDirectory, "second-checkpoints.ndjson"))
            .With("CdsMitral:Navigator:SessionStore", "Database")
            .With("CdsMitral:Navigator:DataProtectionKeys", keys);
        return second;
    }

    /// <summary>The second instance's client; it keeps the first instance's clock, as two machines share the time.</summary>
    private HttpClient SecondClient(ServiceFactory second) =>
        second.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(_service.Clock)))
            .CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost") });

    private async Task<long> StoredSessionsAsync()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_service.DataDirectory, "audit.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM navigator_sessions";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static HttpRequestMessage WithSessionCookie(HttpMethod method, string path, string session, HttpContent? content = null) => new(method, path)
    {
        Headers = { { "Cookie", $"{NavigatorEndpoints.SessionCookie}={session}" } },
        Content = content,
    };

    [Fact]
    public async Task A_stored_session_is_served_by_a_second_instance_with_the_answers_given_at_the_first_and_no_token_at_rest()
    {
        var keys = Path.Combine(_service.DataDirectory, "keys");
        _service.With("CdsMitral:Navigator:SessionStore", "Database").With("CdsMitral:Navigator:DataProtectionKeys", keys);
        using var browser = Browser();
        var (_, _, back) = await LaunchAsync(browser);
        using var callback = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        var set = callback.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(NavigatorEndpoints.SessionCookie + "=", StringComparison.Ordinal));
        var session = set[(NavigatorEndpoints.SessionCookie.Length + 1)..set.IndexOf(';', StringComparison.Ordinal)];
        var token = Assert.Single(_auth.IssuedTokens);

        // The clinician answers the first step at the first instance.
        var first = "/navigator/step/" + StepIds.All[0];
        var html = await (await browser.GetAsync(first)).Content.ReadAsStringAsync();
        var radio = RadioInput().Matches(html).First(m => m.Groups[2].Value.Length > 0);
        var (name, value) = Antiforgery(html);
        using var posted = await browser.PostAsync(first, new FormUrlEncodedContent([new(name, value), new("step", StepIds.All[0]), new("go", "next"),
            new(radio.Groups[1].Value, WebUtility.HtmlDecode(radio.Groups[2].Value))]));
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);

        // Another instance (or this one after a restart) holds nothing in memory: it finds the session in the store and
        // reads the chart again with the session's own token.
        var readsBefore = _fhir.Requests.Count(r => r.Method == "GET");
        await using var second = SecondInstance(keys);
        using var other = SecondClient(second);
        using var step = await other.SendAsync(WithSessionCookie(HttpMethod.Get, first, session));
        Assert.Equal(HttpStatusCode.OK, step.StatusCode);
        Assert.Contains($"value=\"{radio.Groups[2].Value}\" checked", await step.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var reads = _fhir.Requests.Where(r => r.Method == "GET").Skip(readsBefore).ToList();
        Assert.NotEmpty(reads);
        Assert.All(reads, r => Assert.Equal("Bearer " + token, r.Authorization));
        using var result = await other.SendAsync(WithSessionCookie(HttpMethod.Get, "/navigator/result", session));
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);

        Assert.Equal(1, await StoredSessionsAsync());
        var stored = await AuditSupport.EverythingStored(_service, Store.Sqlite);
        Assert.DoesNotContain(token, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(session, stored, StringComparison.Ordinal);
        // A browser that only knows another id gets nothing.
        using var stranger = await other.SendAsync(WithSessionCookie(HttpMethod.Get, first, NavigatorSessions.NewId()));
        Assert.Equal(HttpStatusCode.Unauthorized, stranger.StatusCode);
    }

    [Fact]
    public async Task A_stored_session_past_its_lifetime_is_refused_at_every_instance_and_its_row_is_deleted()
    {
        var keys = Path.Combine(_service.DataDirectory, "keys");
        _service.With("CdsMitral:Navigator:SessionStore", "Database").With("CdsMitral:Navigator:DataProtectionKeys", keys)
            .With("CdsMitral:Navigator:SessionLifetime", "00:00:02");
        using var browser = Browser();
        var (_, _, back) = await LaunchAsync(browser);
        using var callback = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        var set = callback.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(NavigatorEndpoints.SessionCookie + "=", StringComparison.Ordinal));
        var session = set[(NavigatorEndpoints.SessionCookie.Length + 1)..set.IndexOf(';', StringComparison.Ordinal)];
        Assert.Equal(1, await StoredSessionsAsync());
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await using var second = SecondInstance(keys).With("CdsMitral:Navigator:SessionLifetime", "00:00:02");
        using var other = SecondClient(second);
        using var step = await other.SendAsync(WithSessionCookie(HttpMethod.Get, "/navigator/step/" + StepIds.All[0], session));
        Assert.Equal(HttpStatusCode.Unauthorized, step.StatusCode);
        using var again = await browser.GetAsync("/navigator/result");
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        Assert.Equal(0, await StoredSessionsAsync());
    }

    [Fact]
    public async Task On_PostgreSQL_a_stored_session_is_served_by_a_second_instance_and_its_state_is_used_once()
    {
        Requires.Postgres();
        var schema = AuditSupport.NewSchema();
        var keys = Path.Combine(_service.DataDirectory, "keys");
        _service.Audited(Store.Postgres, schema).With("CdsMitral:Navigator:SessionStore", "Database").With("CdsMitral:Navigator:DataProtectionKeys", keys);
        using var browser = Browser();
        var (launch, _, back) = await LaunchAsync(browser);
        await using var second = new ServiceFactory().Audited(Store.Postgres, schema)
            .With("CdsMitral:Navigator:SessionStore", "Database").With("CdsMitral:Navigator:DataProtectionKeys", keys);
        using var other = SecondClient(second);
        // The callback lands at the other instance, with the browser's correlation cookie: the launch is pending in the
        // shared store, and the keys that protect the state are shared.
        using var callbackRequest = new HttpRequestMessage(HttpMethod.Get, CallbackPathAndQuery(back));
        callbackRequest.Headers.Add("Cookie", string.Join("; ", launch.Headers.GetValues("Set-Cookie").Select(c => c[..c.IndexOf(';', StringComparison.Ordinal)])));
        using var callback = await other.SendAsync(callbackRequest);
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        var set = callback.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(NavigatorEndpoints.SessionCookie + "=", StringComparison.Ordinal));
        var session = set[(NavigatorEndpoints.SessionCookie.Length + 1)..set.IndexOf(';', StringComparison.Ordinal)];
        // Back at the first instance, the session is there; a replay of the same state at the first instance is refused.
        using var fresh = Browser();
        using var step = await fresh.SendAsync(WithSessionCookie(HttpMethod.Get, "/navigator/step/" + StepIds.All[0], session));
        Assert.Equal(HttpStatusCode.OK, step.StatusCode);
        using var replay = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Single(_auth.IssuedTokens);
    }

    [Fact]
    public async Task A_launch_naming_a_server_only_the_unverified_list_admits_is_refused_while_every_hook_call_is_verified()
    {
        // With Trust:Mode = Verify no unverified caller may name a fhirServer, so that list cannot open the Navigator either.
        _service.With("CdsMitral:Trust:UnverifiedFhirServers:0", "http://127.0.0.1:*/other");
        using var browser = Browser();
        var iss = _fhir.BaseUrl.Replace("/fhir", "/other", StringComparison.Ordinal);
        using var answer = await browser.GetAsync($"/navigator/launch?iss={Uri.EscapeDataString(iss)}&launch=x");
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Contains("This EHR is not allowed", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_fhir.Requests);
    }

    /// <summary>The documents of the navigator events in the audit chain, one per event.</summary>
    private async Task<List<string>> NavigatorEventsAsync()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_service.DataDirectory, "audit.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT document FROM audit_events WHERE kind = 'navigator' ORDER BY seq";
        await using var reader = await command.ExecuteReaderAsync();
        var documents = new List<string>();
        while (await reader.ReadAsync())
        {
            documents.Add(reader.GetString(0));
        }
        return documents;
    }

    /// <summary>launch → callback → the result page, audited; the browser is left on the result.</summary>
    private async Task<string> ResultPageAsync(HttpClient browser)
    {
        var (_, _, back) = await LaunchAsync(browser);
        using var callback = await browser.GetAsync(CallbackPathAndQuery(back));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        using var result = await browser.GetAsync("/navigator/result");
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        return await result.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task A_launch_from_a_cards_link_is_audited_with_that_card_rule_and_hook_and_the_ids_the_write_back_created()
    {
        // The EHR launches the COAPT-like card's link: its launch context carries the link's appContext back in the token response.
        var card = Guid.NewGuid().ToString();
        var link = CdsMitral.Cards.CardBuilder.NavigatorLink("https://cds.example.org", card, CdsMitral.Rules.RuleIds.CoaptProfile, CdsMitral.Hooks.Hook.PatientView);
        _auth.RegisterLaunch("launch-123", new SmartAuthorizationServer.LaunchContext("p1", "enc-7", link.AppContext));
        _fhir.Responder = (request, _) => request.Method == "POST"
            ? new FakeReply(200, """{"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"201 Created","location":"QuestionnaireResponse/qr-1/_history/1"}},{"response":{"status":"201 Created","location":"ServiceRequest/sr-9/_history/1"}}]}""")
            : null;
        using var browser = Browser();
        using var written = await WriteBackAsync(browser, await ResultPageAsync(browser));
        Assert.Equal(HttpStatusCode.OK, written.StatusCode);

        var stored = await AuditSupport.EverythingStored(_service, Store.Sqlite);
        var from = $"\"LaunchedFrom\":{{\"Card\":\"{card}\",\"Rule\":\"smr-coapt-profile\",\"Hook\":\"patient-view\",\"Unrecognised\":false,\"Inferred\":null}}";
        Assert.Contains("\"Encounter\":\"enc-7\"," + from + ",\"WriteBack\":{\"Outcome\":\"offered\"", stored, StringComparison.Ordinal);
        Assert.Contains(from + ",\"WriteBack\":{\"Outcome\":\"saved\",\"Status\":200,\"Created\":[\"QuestionnaireResponse/qr-1\",\"ServiceRequest/sr-9\"]}", stored, StringComparison.Ordinal);
    }

    /// <summary>SMART need_patient_banner: unless the EHR shows the patient around the app, every page names the patient
    /// as the chart does, so that nobody answers for the wrong one; what the chart says is text, never markup.</summary>
    [Fact]
    public async Task Every_page_names_the_patient_from_the_chart_unless_the_EHR_says_it_shows_the_patient_itself()
    {
        _fhir.Add(new Chart("p1").Patient("1950-03-02", name: "<b>Ada</b> Lovelace").Resources);
        const string banner = "<p class=\"patient-banner\">Patient: <strong>&lt;b&gt;Ada&lt;/b&gt; Lovelace</strong> · born 1950-03-02 · Patient/p1</p>";
        using (var browser = Browser())
        {
            Assert.Contains(banner, await ResultPageAsync(browser), StringComparison.Ordinal);
            using var step = await browser.GetAsync("/navigator/step/" + StepIds.All[0]);
            Assert.Contains(banner, await step.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var summary = await browser.GetAsync("/navigator/summary");
            var summaryHtml = await summary.Content.ReadAsStringAsync();
            Assert.Contains("<strong>&lt;b&gt;Ada&lt;/b&gt; Lovelace", summaryHtml, StringComparison.Ordinal);
            Assert.Contains("<b>Ada</b> Lovelace · born 1950-03-02 · Patient/p1", WebUtility.HtmlDecode(summaryHtml), StringComparison.Ordinal);
        }
        _auth.NeedPatientBanner = false;
        using (var browser = Browser())
        {
            Assert.DoesNotContain("patient-banner", await ResultPageAsync(browser), StringComparison.Ordinal);
        }
    }

    /// <summary>An EHR that relays no appContext: the audit names the most recent card with a Navigator link that this EHR
    /// showed this patient, and says it was inferred, not relayed.</summary>
    [Fact]
    public async Task Without_an_appContext_the_audit_names_the_most_recent_card_shown_to_the_patient_and_says_it_was_inferred()
    {
        var chart = new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        var shown = await _service.PostAsync(Requests.PatientViewId, Requests.PatientView("p1", chart.Prefetch(Terminology.Terminology.Embedded), _fhir.BaseUrl));
        var card = (string)shown.Card("smr-coapt-profile")["uuid"]!;
        using var browser = Browser();
        await ResultPageAsync(browser);
        var stored = await AuditSupport.EverythingStored(_service, Store.Sqlite);
        Assert.Contains($"\"LaunchedFrom\":{{\"Card\":\"{card}\",\"Rule\":\"smr-coapt-profile\",\"Hook\":\"patient-view\",\"Unrecognised\":false," +
            "\"Inferred\":\"no appContext in the launch: the most recent card with a Navigator link shown to Patient/p1 by this EHR, at 2026-11-21T", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hostile_text_in_appContext_never_reaches_the_audit_and_a_refused_write_back_is_audited_with_its_status()
    {
        _auth.RegisterLaunch("launch-123", new SmartAuthorizationServer.LaunchContext("p1", "enc 7 DROP TABLE audit",
            """{"card":"DROP TABLE audit","rule":"smr-coapt-profile FORGED","hook":"patient-view"}"""));
        _fhir.Responder = (request, _) => request.Method == "POST"
            ? new FakeReply(422, """{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":"FORGED location QuestionnaireResponse/evil"}]}""")
            : null;
        using var browser = Browser();
        using var written = await WriteBackAsync(browser, await ResultPageAsync(browser));
        Assert.Equal(HttpStatusCode.BadGateway, written.StatusCode);

        var stored = await AuditSupport.EverythingStored(_service, Store.Sqlite);
        Assert.Contains("\"Encounter\":null,\"LaunchedFrom\":{\"Card\":null,\"Rule\":null,\"Hook\":\"patient-view\",\"Unrecognised\":true,\"Inferred\":null}", stored, StringComparison.Ordinal);
        Assert.Contains("\"WriteBack\":{\"Outcome\":\"refused\",\"Status\":422,\"Created\":null}", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("DROP TABLE", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("FORGED", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_appContext_that_is_not_JSON_is_audited_as_unrecognised_and_a_session_without_create_scopes_as_not_granted()
    {
        _auth.AppContext = "card=1; rule=FORGED";
        _auth.GrantedScopes = ReadOnlyScopes;
        using var browser = Browser();
        await ResultPageAsync(browser);
        var stored = await AuditSupport.EverythingStored(_service, Store.Sqlite);
        Assert.Contains("\"LaunchedFrom\":{\"Card\":null,\"Rule\":null,\"Hook\":null,\"Unrecognised\":true,\"Inferred\":null},\"WriteBack\":{\"Outcome\":\"not-granted\"", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("FORGED", stored, StringComparison.Ordinal);
    }

    /// <summary>A chart and the clinician's answers that lead the Navigator to each result.</summary>
    public static TheoryData<PathwayResult> EveryResult() => [.. Enum.GetValues<PathwayResult>()];

    internal static (Chart Chart, NavigatorAnswers Answers) Leading(PathwayResult result)
    {
        Chart Coapt(decimal lvef = 32, decimal lvesd = 58, string grade = "severe", string mechanism = "secondary-ventricular") =>
            new Chart("p1").Mr(grade, "2026-10-01", mechanism).Lvef(lvef, "2026-10-01").Lvesd(lvesd, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        var full = NavigatorFixtures.Full();
        return result switch
        {
            PathwayResult.CoaptLikeReferToHeartValveTeam => (Coapt(), full),
            PathwayResult.OutsideCoaptLikeRange => (Coapt(lvesd: 74), full),
            PathwayResult.AtrialOrPreservedEfSecondaryMr => (Coapt(lvef: 60, lvesd: 40, mechanism: "secondary-atrial"), full),
            PathwayResult.OptimiseGdmtFirst => (new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01")
                .Pasp(45, "2026-10-01").Medication("200031", "carvedilol"), NavigatorFixtures.None()),
            PathwayResult.PrimaryMr => (Coapt(mechanism: "primary"), full),
            PathwayResult.AcuteSevereMrCriticallyIll => (Coapt(), full with { AcuteSevereMrCriticallyIll = true }),
            PathwayResult.NotEnoughInformation => (Coapt(), NavigatorFixtures.None()),
            PathwayResult.MrNotSignificant => (Coapt(grade: "moderate"), full),
            PathwayResult.NoPersistentSymptoms => (Coapt(), full with { SymptomsPersistDespiteGdmt = false }),
            _ => throw new ArgumentOutOfRangeException(nameof(result)),
        };
    }

    /// <summary>Decision 26: for every result, each write-back button makes the FHIR server receive exactly what its label
    /// says: the answers alone, or the answers and a draft ServiceRequest; and the proposal leads only where the result
    /// advises it.</summary>
    [Theory]
    [MemberData(nameof(EveryResult))]
    public async Task Each_write_back_button_sends_exactly_what_it_says_for_every_result(PathwayResult expected)
    {
        var (chart, answers) = Leading(expected);
        await using var fhir = await FakeFhirServer.StartAsync();
        fhir.SmartConfiguration = _auth.SmartConfiguration();
        fhir.Add(chart.Resources);
        fhir.Responder = (request, _) => request.Method == "POST" ? new FakeReply(200, """{"resourceType":"Bundle","type":"transaction-response"}""") : null;
        using var browser = Browser();
        using var launch = await browser.GetAsync($"/navigator/launch?iss={Uri.EscapeDataString(fhir.BaseUrl)}&launch=launch-123");
        using var back = await AuthBrowser.GetAsync(launch.Headers.Location);
        using var callback = await browser.GetAsync(CallbackPathAndQuery(back.Headers.Location!));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        using var step = await browser.GetAsync("/navigator/step/" + StepIds.All[0]);
        var (name, value) = Antiforgery(await step.Content.ReadAsStringAsync());
        var form = new List<KeyValuePair<string, string>> { new(name, value), new("go", "next") };
        form.AddRange(NavigatorQuestions.All.Select(q => new KeyValuePair<string, string>(q.LinkId, q.AnswerCode(answers) ?? "")));
        using var posted = await browser.PostAsync("/navigator/step/" + StepIds.All[0], new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);

        using var result = await browser.GetAsync("/navigator/result");
        var html = await result.Content.ReadAsStringAsync();
        Assert.Contains(WebUtility.HtmlEncode(NavigatorPathway.TitleOf(expected)), html, StringComparison.Ordinal);
        var buttons = WriteBackButton().Matches(html).Select(m => (Value: m.Groups[1].Value, Label: WebUtility.HtmlDecode(m.Groups[2].Value))).ToList();
        Assert.Equal([("yes", NavigatorOutputs.SaveAndProposeLabel), ("no", NavigatorOutputs.SaveAnswersLabel)],
            NavigatorOutputs.ProposesEvaluation(expected) ? buttons : [.. Enumerable.Reverse(buttons)]);
        Assert.Equal(expected is PathwayResult.CoaptLikeReferToHeartValveTeam or PathwayResult.OutsideCoaptLikeRange, buttons[0].Value == "yes");

        foreach (var (propose, wrote) in new[] { ("no", new[] { "QuestionnaireResponse" }), ("yes", new[] { "QuestionnaireResponse", "ServiceRequest" }) })
        {
            var before = fhir.Requests.Count(r => r.Method == "POST");
            var (field, token) = Antiforgery(html);
            using var saved = await browser.PostAsync("/navigator/write-back", new FormUrlEncodedContent([new(field, token), new("propose", propose)]));
            Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
            Assert.Contains(propose == "yes" ? "a draft ServiceRequest) were saved" : "The answers (a QuestionnaireResponse) were saved",
                await saved.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            var bundle = JsonNode.Parse(fhir.Requests.Where(r => r.Method == "POST").Skip(before).Single().Body!)!;
            Assert.Equal(wrote, bundle["entry"]!.AsArray().Select(e => (string)e!["resource"]!["resourceType"]!));
            Assert.Equal(NavigatorPathway.CodeOf(expected),
                (string?)bundle["entry"]![0]!["resource"]!["item"]!.AsArray().Single(i => (string?)i!["linkId"] == "result")!["answer"]![0]!["valueCoding"]!["code"]);
        }
        // No button pressed (a form without the choice): the answers alone, never a proposal.
        var (f, t) = Antiforgery(html);
        using var bare = await browser.PostAsync("/navigator/write-back", new FormUrlEncodedContent([new(f, t)]));
        Assert.Equal(["QuestionnaireResponse"], JsonNode.Parse(fhir.Requests.Last(r => r.Method == "POST").Body!)!["entry"]!.AsArray()
            .Select(e => (string)e!["resource"]!["resourceType"]!));
    }

    [GeneratedRegex("<button type=\"submit\" name=\"propose\" value=\"(yes|no)\"[^>]*>([^<]+)</button>")]
    private static partial Regex WriteBackButton();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]+)\">")]
    private static partial Regex HiddenInput();

    [GeneratedRegex("type=\"radio\" id=\"[^\"]*\" name=\"([^\"]+)\" value=\"([^\"]*)\"")]
    private static partial Regex RadioInput();
}

/// <summary>The same EHR launch in Chromium against the service as a process: every step by its buttons, the result, the
/// referral summary and the write-back seen on the FHIR server.</summary>
public sealed class LaunchBrowserTests
{
    [Fact, Slow]
    public async Task A_clinician_in_Chromium_goes_from_the_cards_SMART_link_through_every_step_to_the_summary_and_saves_to_the_EHR()
    {
        Requires.Chromium();
        await using var fhir = await FakeFhirServer.StartAsync();
        await using var service = await ServiceProcess.StartAsync();
        await using var auth = await SmartAuthorizationServer.StartAsync(service.BaseUrl + NavigatorEndpoints.CallbackPath, new NavigatorOptions().ReadAndWriteScope);
        fhir.SmartConfiguration = auth.SmartConfiguration();
        var chart = new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        fhir.Add(chart.Resources);
        fhir.Responder = (request, _) => request.Method == "POST" ? new FakeReply(200, """{"resourceType":"Bundle","type":"transaction-response"}""") : null;

        // The EHR opens the chart, shows the COAPT-like card, and launches the card's SMART link with iss and launch.
        using var hook = await service.Http.PostAsync("/cds-services/secondary-mr-patient-view", new StringContent(
            Requests.PatientView("p1", chart.Prefetch(Terminology.Terminology.Embedded)).ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        var cards = JsonNode.Parse(await hook.Content.ReadAsStringAsync())!["cards"]!.AsArray();
        var coapt = cards.Single(c => (string?)c!["source"]!["topic"]!["code"] == "smr-coapt-profile")!;
        var smart = coapt["links"]!.AsArray().Single(l => (string?)l!["type"] == "smart")!;
        Assert.Equal((string?)coapt["uuid"], (string?)JsonNode.Parse((string)smart["appContext"]!)!["card"]);
        var launchUrl = $"{(string)smart["url"]!}?iss={Uri.EscapeDataString(fhir.BaseUrl)}&launch=from-the-card";

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(launchUrl);
        Assert.Equal($"{service.BaseUrl}/navigator/step/{StepIds.All[0]}", page.Url);

        // The clinician answers what the chart cannot show, as for a patient on full GDMT who is still symptomatic.
        for (var step = 1; step <= StepIds.All.Count; step++)
        {
            Assert.StartsWith($"Step {step} of {StepIds.All.Count}", await page.InnerTextAsync("h1"), StringComparison.Ordinal);
            foreach (var (question, answer) in ClinicianAnswers)
            {
                var option = page.Locator($"input[name='{question}'][value='{answer}']");
                if (await option.CountAsync() == 1)
                {
                    await option.CheckAsync();
                }
            }
            await Screenshots.TakeAsync(page, $"{step:00}-{StepIds.All[step - 1]}");
            await page.GetByRole(AriaRole.Button, new() { Name = step < StepIds.All.Count ? "Save and continue" : "Save and see the result" }).ClickAsync();
        }
        Assert.Equal($"{service.BaseUrl}/navigator/result", page.Url);
        Assert.Equal("Where the patient stands", await page.InnerTextAsync("h1"));
        Assert.Contains(NavigatorPathway.TitleOf(PathwayResult.CoaptLikeReferToHeartValveTeam), await page.InnerTextAsync("body"), StringComparison.Ordinal);
        await Screenshots.TakeAsync(page, "09-result");

        await page.GetByRole(AriaRole.Link, new() { Name = "Heart Valve Team referral summary (printable)" }).ClickAsync();
        Assert.Equal("Heart Valve Team referral summary", await page.InnerTextAsync("h1"));
        Assert.Contains("attested by", await page.InnerTextAsync("body"), StringComparison.OrdinalIgnoreCase);
        await Screenshots.TakeAsync(page, "10-referral-summary");
        await page.GoBackAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = NavigatorOutputs.SaveAndProposeLabel }).ClickAsync();
        Assert.Equal("Saved to the EHR", await page.InnerTextAsync("h1"));
        await Screenshots.TakeAsync(page, "11-saved");
        var post = Assert.Single(fhir.Requests, r => r.Method == "POST");
        Assert.Equal("Bearer " + Assert.Single(auth.IssuedTokens), post.Authorization);
        // The browser holds only opaque ids: no cookie carries the token.
        Assert.All(await context.CookiesAsync(), c => Assert.DoesNotContain(auth.IssuedTokens[0], c.Value, StringComparison.Ordinal));
    }

    /// <summary>Every result reached in Chromium the way a clinician reaches it: the chart that leads there, the answers
    /// clicked step by step, the result page with its title, and the patient page it offers, which is the one written for
    /// that result. With CDSMITRAL_WRITE_SCREENSHOTS=1 both pages of each result are kept in docs/navigator/.</summary>
    [Fact, Slow]
    public async Task Every_result_is_reached_in_Chromium_by_clicking_and_offers_the_patient_page_written_for_it()
    {
        Requires.Chromium();
        await using var service = await ServiceProcess.StartAsync();
        await using var auth = await SmartAuthorizationServer.StartAsync(service.BaseUrl + NavigatorEndpoints.CallbackPath, new NavigatorOptions().ReadAndWriteScope);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        foreach (var expected in Enum.GetValues<PathwayResult>())
        {
            var (chart, answers) = LaunchTests.Leading(expected);
            await using var fhir = await FakeFhirServer.StartAsync();
            fhir.SmartConfiguration = auth.SmartConfiguration();
            fhir.Add(chart.Resources);
            await using var context = await browser.NewContextAsync();
            var page = await context.NewPageAsync();
            await page.GotoAsync($"{service.BaseUrl}/navigator/launch?iss={Uri.EscapeDataString(fhir.BaseUrl)}&launch=l-{expected}");
            var clicks = NavigatorQuestions.All.Select(q => (q.LinkId, Code: q.AnswerCode(answers))).Where(a => a.Code is not null).ToList();
            for (var steps = 0; page.Url.Contains("/navigator/step/", StringComparison.Ordinal); steps++)
            {
                Assert.True(steps < StepIds.All.Count, $"{expected}: still on {page.Url}");
                foreach (var (question, answer) in clicks)
                {
                    var option = page.Locator($"input[name='{question}'][value='{answer}']");
                    if (await option.CountAsync() == 1)
                    {
                        await option.CheckAsync();
                    }
                }
                await page.Locator("form button[type=submit][name=go][value=next]").ClickAsync();
            }
            Assert.Equal($"{service.BaseUrl}/navigator/result", page.Url);
            Assert.Contains(NavigatorPathway.TitleOf(expected), await page.InnerTextAsync("main"), StringComparison.Ordinal);
            var code = NavigatorPathway.CodeOf(expected);
            await Screenshots.TakeAsync(page, $"result-{code}");
            await page.GetByRole(AriaRole.Link, new() { Name = "Page for the patient" }).ClickAsync();
            Assert.Equal(CdsMitral.Content.ContentCatalog.Embedded.Get(NavigatorPathway.PatientPageOf(expected)).Title, await page.InnerTextAsync("h1"));
            Assert.Contains(CdsMitral.Content.PatientAdvice.EmergencyHeading, await page.InnerTextAsync("main"), StringComparison.Ordinal);
            await Screenshots.TakeAsync(page, $"patient-page-{NavigatorPathway.PatientPageOf(expected)}");
        }
    }

    /// <summary>The shared full answers, as the form codes the clinician clicks.</summary>
    internal static readonly (string Question, string Answer)[] ClinicianAnswers =
        [.. NavigatorQuestions.All.Select(q => (q.LinkId, q.AnswerCode(NavigatorFixtures.Full()))).Where(a => a.Item2 is not null).Select(a => (a.LinkId, a.Item2!))];
}

/// <summary>With CDSMITRAL_WRITE_SCREENSHOTS=1 the browser test saves each page it passes, at a laptop's width and at an
/// EHR side panel's 400 px, into docs/navigator/ (docs/navigator.md shows them).</summary>
internal static class Screenshots
{
    private static readonly bool Write = Environment.GetEnvironmentVariable("CDSMITRAL_WRITE_SCREENSHOTS") == "1";

    public static async Task TakeAsync(IPage page, string name)
    {
        if (!Write)
        {
            return;
        }
        var folder = Repo.PathOf("docs", "navigator");
        Directory.CreateDirectory(folder);
        foreach (var (width, label) in new[] { (1280, "desktop"), (400, "400px") })
        {
            await page.SetViewportSizeAsync(width, 900);
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{name}-{label}.png"), FullPage = true });
        }
        await page.SetViewportSizeAsync(1280, 900);
    }
}
