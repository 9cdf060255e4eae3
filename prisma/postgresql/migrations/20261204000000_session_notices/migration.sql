-- Gateways on PostgreSQL keep the sessions they checked (src/auth/session-cache.ts) until they hear that a
-- session ended or a user changed in a way the session check reads: these triggers tell every listening
-- gateway. PostgreSQL folds identical notifications of one transaction into one, so a purge of many
-- sessions sends one.
CREATE FUNCTION wsgate_sessions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('wsgate_sessions', '');
  RETURN NULL;
END $$;

CREATE TRIGGER ws_session_ended AFTER DELETE ON ws_session FOR EACH ROW EXECUTE FUNCTION wsgate_sessions_changed();

CREATE TRIGGER ws_user_removed AFTER DELETE ON ws_user FOR EACH ROW EXECUTE FUNCTION wsgate_sessions_changed();

CREATE TRIGGER ws_user_changed AFTER UPDATE ON ws_user FOR EACH ROW
  WHEN (OLD.disabled_at IS DISTINCT FROM NEW.disabled_at OR OLD.is_admin IS DISTINCT FROM NEW.is_admin
    OR OLD.user_name IS DISTINCT FROM NEW.user_name OR OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION wsgate_sessions_changed();
