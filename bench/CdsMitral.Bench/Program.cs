using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using CdsMitral.Bench;

// dotnet run -c Release --project bench/CdsMitral.Bench -- pipeline            the BenchmarkDotNet pipeline benchmark
// dotnet run -c Release --project bench/CdsMitral.Bench -- stages              time and allocations per pipeline stage
// dotnet run -c Release --project bench/CdsMitral.Bench -- types [stage]        which types the bytes go to (hook, unpack, snapshot, rules, fingerprint, cards, audit)
// dotnet run -c Release --project bench/CdsMitral.Bench -- commits [count]      durable audit commits, one record each: latency
//   (AUDIT_POSTGRES=<connection string> commits to PostgreSQL, in a schema of its own, instead of SQLite)
// dotnet run -c Release --project bench/CdsMitral.Bench -- standback [count]    the stand-back lookup a hook with cards makes (SQLite)
// dotnet run -c Release --project bench/CdsMitral.Bench -- requests <folder>   write the realistic requests for load tests
// dotnet run -c Release --project bench/CdsMitral.Bench -- fill <count> <seed> <start-day>   a year of audit events
//   into the store CdsMitral__Audit__* names (Store, ConnectionString, ChainKey, CheckpointPath): see bench/audit-scale.sh
if (args is ["fill", var fillCount, var fillSeed, var fillStart])
{
    var options = new CdsMitral.Service.Audit.AuditOptions();
    Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(Microsoft.Extensions.Configuration.EnvironmentVariablesExtensions.AddEnvironmentVariables(
        new Microsoft.Extensions.Configuration.ConfigurationBuilder()).Build().GetSection("CdsMitral:Audit"), options);
    static long L(string s) => long.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
    await AuditYear.FillAsync(options, L(fillCount), (int)L(fillSeed),
        DateTimeOffset.Parse(fillStart, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal));
    return 0;
}
if (args is ["requests", var folder])
{
    Directory.CreateDirectory(folder);
    File.WriteAllText(Path.Combine(folder, "realistic-coapt.json"), RealisticRequests.Build(coapt: true).ToJsonString());
    File.WriteAllText(Path.Combine(folder, "realistic-silent.json"), RealisticRequests.Build(coapt: false).ToJsonString());
    return 0;
}
if (args is ["commits", .. var n])
{
    Stages.Run(n is [var count] ? int.Parse(count, System.Globalization.CultureInfo.InvariantCulture) : 2000, commitsOnly: true);
    return 0;
}
if (args is ["standback", .. var m])
{
    Stages.StandBack(m is [var count] ? int.Parse(count, System.Globalization.CultureInfo.InvariantCulture) : 5000);
    return 0;
}
if (args is ["types", .. var which])
{
    AllocationTypes.Run(which is [var stage, ..] ? stage : "hook");
    return 0;
}
if (args is ["stages"])
{
    Stages.Run();
    return 0;
}
if (args is ["pipeline", .. var rest])
{
    BenchmarkRunner.Run<PipelineBenchmarks>(DefaultConfig.Instance.WithOptions(ConfigOptions.DisableOptimizationsValidator), rest);
    return 0;
}
Console.Error.WriteLine("usage: CdsMitral.Bench pipeline | stages | types [stage] | commits [count] | requests <folder>");
return 2;
