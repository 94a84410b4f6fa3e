-- Sign-in sessions, disabled users and shared login limits (issue 14).
--
-- A session is one sign-in: its refresh tokens form one family (each refresh spends one token
-- and issues the next), and its access tokens name it in their `ses` claim. Every request
-- checks that the session is not ended and its user not disabled, so sign-out, disabling a
-- user and a password change take effect at once on every instance sharing this database.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    ended_at   BIGINT,                -- signed out, revoked (refresh token reuse, password change, user disabled)
    end_reason TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_ended_at ON sessions (ended_at);

ALTER TABLE users ADD COLUMN disabled_at BIGINT;

-- Refresh tokens issued before sessions existed have none and are refused: their users sign in again.
ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT REFERENCES sessions (id);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Login attempts per key (`account:<email>`, `address:<ip>`) in the current window, counted
-- before the password is checked, shared by every instance.
CREATE TABLE login_attempts (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    attempts     BIGINT NOT NULL
);
