using System.CommandLine;
using CdsMitral.Cli;

Terminal.Configure();

var root = new RootCommand("""
    cdsmitral — a command-line CDS client for CdsMitral (and any CDS Hooks 2.0 service).

    Examples:
      cdsmitral discover http://localhost:5080/cds-services
      cdsmitral hook http://localhost:5080 --service secondary-mr-patient-view --patient coapt-profile --prefetch
      cdsmitral load http://127.0.0.1:8081/fhir samples/patients/*.json
      cdsmitral hook http://localhost:5080 --service secondary-mr-patient-view --patient coapt-profile --fhir http://127.0.0.1:8081/fhir --token secret
      cdsmitral keys new --kid my-ehr-1 --out keys/
      cdsmitral population /tmp/population --patients 100000
      cdsmitral replay /tmp/population
    """);
root.Subcommands.Add(DiscoverCommand.Create());
root.Subcommands.Add(HookCommand.Create());
root.Subcommands.Add(LoadCommand.Create());
root.Subcommands.Add(KeysCommand.Create());
root.Subcommands.Add(PopulationCommand.Create());
root.Subcommands.Add(ReplayCommand.Create());
return await root.Parse(args).InvokeAsync();
