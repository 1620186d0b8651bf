using Spectre.Console;

namespace CdsMitral.Cli;

/// <summary>Why a command stopped, in a sentence, with the exit code scripts can test.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public const int BadInput = 2, Unreachable = 3, Refused = 4, PreconditionFailed = 5, HttpError = 6;

    public int ExitCode { get; } = exitCode;

    /// <summary>Runs a command body: a <see cref="Failure"/> becomes its message on stderr and its exit code.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliException f)
        {
            var error = Terminal.Create(Console.Error, Console.IsErrorRedirected);
            error.MarkupLine($"[red]error:[/] {Markup.Escape(f.Message)}");
            return f.ExitCode;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"error: cannot reach the server: {e.Message}");
            return Unreachable;
        }
        catch (TaskCanceledException)
        {
            await Console.Error.WriteLineAsync("error: the server did not answer in time");
            return Unreachable;
        }
    }
}
