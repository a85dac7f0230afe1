-- Schema version 1 as the first release wrote it (frozen for the migration test).
CREATE TABLE environments (
        id TEXT PRIMARY KEY,
        license TEXT NOT NULL,
        kind TEXT NOT NULL,
        identity TEXT NOT NULL,
        idp_active INTEGER NOT NULL,
        anonymous_access INTEGER NOT NULL,
        attrs TEXT NOT NULL
    );
    CREATE INDEX environments_by_license ON environments(license);
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        home TEXT NOT NULL REFERENCES environments(id) DEFERRABLE INITIALLY DEFERRED,
        guest_license INTEGER NOT NULL,
        desktop_access INTEGER NOT NULL,
        employment_end TEXT,
        idp_subject TEXT,
        attrs TEXT NOT NULL
    );
    CREATE INDEX users_by_idp_subject ON users(idp_subject);
    CREATE TABLE accounts (
        user TEXT NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
        env TEXT NOT NULL REFERENCES environments(id) DEFERRABLE INITIALLY DEFERRED,
        status TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT,
        roles TEXT NOT NULL,
        portal INTEGER NOT NULL,
        invited_until TEXT,
        attrs TEXT NOT NULL,
        UNIQUE (user, env)
    );
    CREATE INDEX accounts_by_env ON accounts(env);
    CREATE UNIQUE INDEX accounts_unique_email ON accounts(env, lower(email)) WHERE email IS NOT NULL;
    CREATE TABLE assets (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        env TEXT NOT NULL REFERENCES environments(id) DEFERRABLE INITIALLY DEFERRED,
        owner TEXT,
        space_type TEXT,
        space TEXT REFERENCES assets(id) DEFERRABLE INITIALLY DEFERRED,
        attrs TEXT NOT NULL,
        FOREIGN KEY (owner, env) REFERENCES accounts(user, env) DEFERRABLE INITIALLY DEFERRED
    );
    CREATE INDEX assets_by_owner ON assets(owner, env);
    CREATE INDEX assets_by_space ON assets(space);
    CREATE TABLE asset_uses (
        asset TEXT NOT NULL REFERENCES assets(id) DEFERRABLE INITIALLY DEFERRED,
        position INTEGER NOT NULL,
        uses TEXT NOT NULL REFERENCES assets(id) DEFERRABLE INITIALLY DEFERRED,
        PRIMARY KEY (asset, position)
    );
    CREATE INDEX asset_uses_by_used ON asset_uses(uses);
    CREATE TABLE record_references (
        tbl TEXT NOT NULL,
        env TEXT NOT NULL,
        user TEXT NOT NULL,
        rows INTEGER NOT NULL,
        FOREIGN KEY (user, env) REFERENCES accounts(user, env) DEFERRABLE INITIALLY DEFERRED
    );
    CREATE INDEX record_references_by_account ON record_references(user, env);
