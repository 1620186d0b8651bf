namespace CdsMitral.Service.Hosting;

/// <summary>`CdsMitral.Service probe [url]`: GETs the service's readiness (default http://127.0.0.1:8080/health/ready) and
/// exits 0 when it answers 200, 1 otherwise — a container HEALTHCHECK that needs no curl in the image.</summary>
public static class HealthProbe
{
    public const string Command = "probe";

    public static async Task<int> RunAsync(string? url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync(url ?? "http://127.0.0.1:8080/health/ready");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or UriFormatException)
        {
            await Console.Error.WriteLineAsync($"probe: {e.Message}");
            return 1;
        }
    }
}
