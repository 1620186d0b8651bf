-- A stand-back holds where its card was shown (issue 24): for the client's issuer, its tenant and the FHIR server of the
-- call, not for the same patient id under another tenant or on another server. '' where the call had none. Rows written
-- before this had none recorded and keep holding for the issuer's calls without a tenant or FHIR server.
ALTER TABLE suppressions ADD COLUMN client_tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE suppressions ADD COLUMN fhir_server TEXT NOT NULL DEFAULT '';
-- One stand-back per card: feedback on a card that already stands back (a re-sent item with a new outcomeTimestamp,
-- another reason) never extends it. Of earlier duplicates the first given is kept.
DELETE FROM suppressions WHERE EXISTS (
    SELECT 1 FROM suppressions o
    WHERE o.card_uuid = suppressions.card_uuid AND (o.at < suppressions.at OR (o.at = suppressions.at AND o.dedupe_key < suppressions.dedupe_key)));
CREATE UNIQUE INDEX suppressions_card ON suppressions (card_uuid);
