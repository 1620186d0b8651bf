-- Every change to the stand-backs is announced to the instances that hold them in memory (SuppressionStore): NOTIFY
-- cdsmitral_suppressions with the table's schema, delivered when the change commits. A trigger rather than a NOTIFY sent
-- by the service, so that a row written by an older instance during an upgrade, or deleted by hand to withdraw a
-- stand-back, is announced too. Several changes in one transaction are delivered as one announcement.
CREATE OR REPLACE FUNCTION suppressions_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cdsmitral_suppressions', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;
CREATE TRIGGER suppressions_announce AFTER INSERT OR UPDATE OR DELETE ON suppressions
    FOR EACH ROW EXECUTE PROCEDURE suppressions_announce();
