using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Samples;

/// <summary>One ready hook request of a sample, and the rule ids of the cards it must produce.</summary>
public sealed record SampleRequest(string Hook, string[] ExpectedRules, JsonObject[]? Orders = null);

/// <param name="Name">File stem in samples/; also the patient id.</param>
public sealed record SamplePatient(string Name, string Story, Chart Chart, SampleRequest[] Requests);

/// <summary>
/// The synthetic patients in samples/, defined once. Dates count back from <see cref="AsOf"/>: with the default
/// 12-month window, the "current" echoes stay current until about 2027-09. Regenerate with a later date by setting
/// CDSMITRAL_SAMPLES_AS_OF=YYYY-MM-DD with CDSMITRAL_WRITE_SAMPLES=1 (see samples/README.md).
/// </summary>
public static class SamplePatients
{
    public static DateTimeOffset AsOf { get; } =
        Environment.GetEnvironmentVariable("CDSMITRAL_SAMPLES_AS_OF") is { Length: > 0 } d ? DateTimeOffset.Parse(d, System.Globalization.CultureInfo.InvariantCulture) : ServiceFactory.Today;

    private static string Ago(int days) => AsOf.AddDays(-days).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static readonly string Echo = Ago(60);

    private static SampleRequest View(params string[] rules) => new("patient-view", rules);

    private static SampleRequest Order(JsonObject order, params string[] rules) => new("order-select", rules, [order]);

    /// <summary>order-sign: every draft order is checked, there are no selections.</summary>
    private static SampleRequest Sign(JsonObject[] orders, params string[] rules) => new("order-sign", rules, orders);

    private static JsonObject Teer(string patient) => Requests.TeerOrder("teer-order", patient);

    private static JsonObject Surgery(string patient) =>
        Requests.ServiceRequest("surgery-order", Chart.Snomed, "38102005", "Cholecystectomy", category: "387713003", patientId: patient);

    private static Chart C(string name) => new(name);

    public static IReadOnlyList<SamplePatient> All { get; } =
    [
        new("coapt-profile", "Severe ventricular secondary MR on full GDMT; LVEF 32 %, LVESD 58 mm, PASP 45 mmHg.",
            C("coapt-profile").Mr("severe", Echo, "secondary-ventricular").Lvef(32, Echo, code: "79991-6").Lvesd(58, Echo).Pasp(45, Echo)
                .Eroa(0.45m, Echo).Lvedv(190, Echo).Nyha("LA28406-9", Ago(20)).FullGdmt()
                .Condition(Chart.Snomed, "703272007", "Heart failure with reduced ejection fraction"),
            [View("smr-coapt-profile"), Order(Teer("coapt-profile"), "smr-order-teer")]),
        new("coapt-gdmt-gap", "Severe MR, mechanism not recorded (presumed secondary from LVEF 35 %); only a beta-blocker and an ACE inhibitor.",
            C("coapt-gdmt-gap").Mr("severe", Echo).Lvef(35, Echo).Lvesd(55, Echo).Pasp(40, Echo)
                .Medication("200033", "carvedilol 25 MG Oral Tablet").Medication("314076", "lisinopril 10 MG Oral Tablet", "MedicationStatement"),
            [View("smr-coapt-profile", "smr-gdmt-gap"), Order(Teer("coapt-gdmt-gap"), "smr-gdmt-gap")]),
        new("outside-range-lvesd", "Severe ventricular secondary MR with a dilated ventricle: LVESD 74 mm.",
            C("outside-range-lvesd").Mr("severe", Echo, "secondary-ventricular").Lvef(28, Echo).Lvesd(74, Echo).Pasp(50, Echo).FullGdmt(),
            [View("smr-outside-range"), Order(Teer("outside-range-lvesd"), "smr-outside-range"),
                Sign([Teer("outside-range-lvesd"), Surgery("outside-range-lvesd")], "smr-outside-range", "smr-periop")]),
        new("outside-range-pasp-gap", "Severe secondary MR with PASP 78 mmHg and no LVESD on record.",
            C("outside-range-pasp-gap").Mr("moderate-severe", Echo, "secondary-ventricular").Lvef(30, Echo).Pasp(78, Echo).FullGdmt(),
            [View("smr-outside-range", "smr-data-gaps")]),
        new("stale-echo", "Severe secondary MR; the last echo measurements are from two years ago.",
            C("stale-echo").Mr("severe", Ago(20), "secondary-ventricular").Lvef(30, Ago(730)).Lvesd(60, Ago(730)).Pasp(45, Ago(730)).FullGdmt(),
            [View("smr-data-gaps")]),
        new("mechanism-unknown", "Severe MR with LVEF 58 % and no diagnosis that explains it: the mechanism cannot be presumed.",
            C("mechanism-unknown").Mr("severe", Echo).Lvef(58, Echo).Lvesd(42, Echo).Pasp(38, Echo),
            [View("smr-data-gaps")]),
        new("post-teer", "TEER 18 months ago; mild residual MR; LVEF 33 %; on full GDMT.",
            C("post-teer").PriorTeer(Ago(540)).Mr("mild", Echo, "secondary-ventricular").Lvef(33, Echo).Lvesd(56, Echo).Pasp(35, Echo).FullGdmt(),
            [View("smr-post-teer"), Order(Surgery("post-teer"), "smr-periop"), Sign([Surgery("post-teer")], "smr-periop")]),
        new("periop-secondary-mr", "Moderate-severe atrial secondary MR with AF and LVEF 35 %, on full GDMT; a cholecystectomy is ordered.",
            C("periop-secondary-mr").Mr("moderate-severe", Echo, "secondary-atrial").Lvef(35, Echo).Lvesd(50, Echo).Pasp(42, Echo).FullGdmt()
                .Condition(Chart.Snomed, "49436004", "Atrial fibrillation"),
            [View("smr-coapt-profile"), Order(Surgery("periop-secondary-mr"), "smr-periop")]),
        new("ambiguous-metoprolol", "Severe presumed secondary MR; the beta-blocker is recorded as 'metoprolol' without its salt.",
            C("ambiguous-metoprolol").Mr("severe", Echo).Lvef(30, Echo).Lvesd(60, Echo).Pasp(44, Echo)
                .Medication("6918", "metoprolol").Medication("1656340", "sacubitril 24 MG / valsartan 26 MG Oral Tablet")
                .Medication("313096", "spironolactone 25 MG Oral Tablet").Medication("1545658", "empagliflozin 10 MG Oral Tablet"),
            [View("smr-coapt-profile", "smr-gdmt-gap")]),
        new("acute-shock-ecmo", "Severe secondary MR in cardiogenic shock on VA-ECMO: one acute card instead of the chronic ones.",
            C("acute-shock-ecmo").Mr("severe", Ago(3), "secondary-ventricular").Lvef(25, Ago(3)).Lvesd(62, Ago(3)).Pasp(48, Ago(3))
                .Medication("200031", "carvedilol 6.25 MG Oral Tablet")
                .Condition(Chart.Snomed, "89138009", "Cardiogenic shock")
                .Procedure(Chart.Snomed, "786451004", "Venoarterial extracorporeal membrane oxygenation", Ago(2), status: "in-progress"),
            [View("smr-acute-setting"), Order(Teer("acute-shock-ecmo"), "smr-acute-setting")]),
        new("post-teer-severe-mr", "Severe MR again 14 months after a TEER; LVEF 34 %, on full GDMT.",
            C("post-teer-severe-mr").PriorTeer(Ago(480)).Mr("severe", Echo, "secondary-ventricular").Lvef(34, Echo).Lvesd(60, Echo).Pasp(46, Echo).FullGdmt(),
            [View("smr-coapt-profile", "smr-post-teer")]),
        new("silent-deceased", "COAPT-like values, but the patient is recorded as deceased: no card.",
            C("silent-deceased").Patient(deceasedOn: Ago(1)).Mr("severe", Echo, "secondary-ventricular").Lvef(32, Echo).Lvesd(58, Echo).Pasp(45, Echo).FullGdmt(),
            [View()]),
        new("silent-mild-mr", "Mild secondary MR with LVEF 40 %: nothing to say.",
            C("silent-mild-mr").Mr("mild", Echo, "secondary-ventricular").Lvef(40, Echo).Lvesd(50, Echo).Pasp(30, Echo).FullGdmt(),
            [View(), Order(Surgery("silent-mild-mr"))]),
        new("silent-primary-mr", "Severe MR from mitral valve prolapse: primary MR gets no secondary-MR cards.",
            C("silent-primary-mr").Mr("severe", Echo).Lvef(62, Echo).Lvesd(38, Echo).Pasp(36, Echo)
                .Condition(Chart.Snomed, "409712001", "Mitral valve prolapse"),
            [View(), Order(Teer("silent-primary-mr"))]),
        new("silent-no-echo", "HFrEF on treatment, no echo on record at all.",
            C("silent-no-echo").Condition(Chart.Snomed, "703272007", "Heart failure with reduced ejection fraction").FullGdmt(),
            [View()]),
        new("dq-lvesd-in-cm", "LVESD recorded as 6.1 cm (read as 61 mm): COAPT-like.",
            C("dq-lvesd-in-cm").Mr("severe", Echo, "secondary-ventricular").Lvef(31, Echo).Lvesd(6.1m, Echo, unit: "cm").Pasp(48, Echo).FullGdmt(),
            [View("smr-coapt-profile")]),
        new("dq-lvef-fraction", "LVEF recorded as the fraction 0.3 (read as 30 %): COAPT-like.",
            C("dq-lvef-fraction").Mr("severe", Echo, "secondary-ventricular").Lvef(0.3m, Echo, unit: "1").Lvesd(60, Echo).Pasp(44, Echo).FullGdmt(),
            [View("smr-coapt-profile")]),
        new("dq-entered-in-error", "The newest LVEF (15 %) was entered in error; the valid one is 34 %: COAPT-like, not out of range.",
            C("dq-entered-in-error").Mr("severe", Echo, "secondary-ventricular").Lvef(34, Ago(90)).Lvef(15, Echo, status: "entered-in-error")
                .Lvesd(57, Echo).Pasp(41, Echo).FullGdmt(),
            [View("smr-coapt-profile")]),
        new("dq-implausible-pasp", "PASP recorded as 450 mmHg (implausible, not used); the other values are current.",
            C("dq-implausible-pasp").Mr("severe", Echo, "secondary-ventricular").Lvef(33, Echo).Lvesd(59, Echo).Pasp(450, Echo).FullGdmt(),
            [View("smr-data-gaps")]),
    ];
}
