-- The restricted application role (issue 13 item 2). Every connection of the store runs
-- `SET ROLE unlockdesk_app` after the migrations, so the application itself can never UPDATE,
-- DELETE or TRUNCATE the audit trail (the runner grants the table rights after every migration,
-- see migrate.rs; the append-only trigger of 0001 stays as the second line of defence).
--
-- Roles are cluster-wide: a second database on the same cluster reuses the role, and two
-- databases migrated at the same moment may both try to create it (their advisory locks are
-- per database), so "already exists" from the other one is not an error.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'unlockdesk_app') THEN
        BEGIN
            CREATE ROLE unlockdesk_app NOLOGIN NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

-- The owner who migrates must be able to SET ROLE to it (a superuser always can).
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, 'unlockdesk_app', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT unlockdesk_app TO %I', current_user);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;
