//! Tokens: HS256 JWTs bound to (userID, platformID), as OpenIM issues them (spec §5.2), plus the
//! token table that makes them revocable (multi-login policy 1, spec §2.10).
//!
//! The JWT part is pure (no clock, no I/O): callers pass `now` in seconds.
//!
//! The token table is purged so that it does not grow forever, without ever touching a live
//! (unexpired, state 0) token: rows expired for longer than [`PURGE_GRACE_SECS`] are deleted in
//! bounded batches (when a token is issued, and periodically by the server), and of the kicked
//! tokens of one user and platform only the newest [`KEPT_KICKED_TOKENS`] are kept, so that a
//! replaced device still learns it was kicked (1506) rather than that its token is unknown.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chorus_proto::constants::ErrorCode;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::ApiError;

/// Token lifetime: 90 days, OpenIM's default `tokenPolicy.expire`.
pub const TOKEN_TTL_SECS: i64 = 90 * 86_400;
/// Platform id of admin tokens.
pub const ADMIN_PLATFORM_ID: i32 = 10;

/// Kicked tokens kept per user and platform (newest first); older kicked rows are deleted.
pub const KEPT_KICKED_TOKENS: usize = 8;
/// Expired rows are purged only this long after their expiry, so that a wall clock set back a
/// little never turns a deleted row into a token that verifies again.
pub const PURGE_GRACE_SECS: i64 = 600;
/// Most expired rows one periodic purge batch deletes.
pub const PURGE_BATCH: usize = 500;
/// Most expired rows deleted along with issuing a token.
pub const PURGE_BATCH_ON_ISSUE: usize = 64;
/// How often the server purges expired tokens (and once at start).
pub const PURGE_PERIOD: std::time::Duration = std::time::Duration::from_secs(3600);

/// The claims OpenIM puts in its tokens (key spelling is part of the format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "UserID")]
    pub user_id: String,
    #[serde(rename = "PlatformID")]
    pub platform_id: i32,
    pub exp: i64,
    pub iat: i64,
    /// A random id, so that two tokens issued in the same second differ (a new login must be
    /// able to kick the previous one).
    #[serde(default)]
    pub jti: String,
}

/// 16 random bytes as hex.
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    // The OS random source only fails on broken systems; a zero id is still a valid token id.
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Compares two secrets in time independent of where they differ (both are hashed first, so
/// the length is not revealed either).
pub fn secret_matches(given: &str, expected: &str) -> bool {
    use sha2::Digest as _;
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn sign(secret: &[u8], signing_input: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(signing_input.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Issues a token for `user_id` on `platform_id`, valid for [`TOKEN_TTL_SECS`] from `now`.
pub fn issue(secret: &str, user_id: &str, platform_id: i32, now: i64) -> (String, Claims) {
    let claims = Claims {
        user_id: user_id.to_owned(),
        platform_id,
        exp: now + TOKEN_TTL_SECS,
        // OpenIM backdates iat by five seconds to tolerate clock skew between services.
        iat: now - 5,
        jti: random_id(),
    };
    let payload = serde_json::to_vec(&claims).unwrap_or_default();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = URL_SAFE_NO_PAD.encode(sign(secret.as_bytes(), &input));
    (format!("{input}.{sig}"), claims)
}

/// Checks a token's form, signature and time window; the token table is checked separately.
pub fn verify(secret: &str, token: &str, now: i64) -> Result<Claims, ApiError> {
    let malformed = || ApiError::new(ErrorCode::TokenMalformed, "token malformed");
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(malformed)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(ApiError::new(ErrorCode::TokenUnknown, "token algorithm"));
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| malformed())?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(p.as_bytes());
    // Constant-time comparison.
    if mac.verify_slice(&sig).is_err() {
        return Err(ApiError::new(ErrorCode::TokenUnknown, "token signature"));
    }
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(malformed)?;
    if claims.exp <= now {
        return Err(ApiError::new(ErrorCode::TokenExpired, "token expired"));
    }
    if claims.iat > now + 60 {
        return Err(ApiError::new(
            ErrorCode::TokenNotValidYet,
            "token not valid yet",
        ));
    }
    Ok(claims)
}

/// Deletes at most `limit` token rows that expired more than [`PURGE_GRACE_SECS`] before `now`
/// (seconds), whatever their state; returns how many were deleted. Such tokens already fail
/// verification with 1501 before the table is consulted, so no answer changes.
pub fn purge_expired_tokens(
    conn: &rusqlite::Connection,
    now: i64,
    limit: usize,
) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM tokens WHERE rowid IN
             (SELECT rowid FROM tokens WHERE expire_at <= ?1 LIMIT ?2)",
        rusqlite::params![now - PURGE_GRACE_SECS, limit as i64],
    )
}

/// Deletes the kicked tokens of `user_id` on `platform_id` beyond the newest
/// [`KEPT_KICKED_TOKENS`]; live tokens are never touched. Returns how many were deleted.
pub fn trim_kicked_tokens(
    conn: &rusqlite::Connection,
    user_id: &str,
    platform_id: i32,
) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM tokens WHERE user_id = ?1 AND platform_id = ?2 AND state <> 0
           AND token NOT IN (
               SELECT token FROM tokens WHERE user_id = ?1 AND platform_id = ?2 AND state <> 0
               ORDER BY expire_at DESC, rowid DESC LIMIT ?3)",
        rusqlite::params![user_id, platform_id, KEPT_KICKED_TOKENS as i64],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn secrets_compare_exactly() {
        assert!(secret_matches("openIM123", "openIM123"));
        assert!(!secret_matches("openIM124", "openIM123"));
        assert!(!secret_matches("openIM12", "openIM123"));
        assert!(!secret_matches("", "openIM123"));
    }

    #[test]
    fn issued_token_verifies_with_claims() {
        let (token, claims) = issue("s3cret", "u1", 5, NOW);
        assert_eq!(verify("s3cret", &token, NOW + 10).unwrap(), claims);
        let (again, _) = issue("s3cret", "u1", 5, NOW);
        assert_ne!(token, again, "tokens issued in the same second differ");
        assert_eq!(claims.exp - NOW, TOKEN_TTL_SECS);
        // The payload uses OpenIM's claim names.
        let payload = token.split('.').nth(1).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(json["UserID"], "u1");
        assert_eq!(json["PlatformID"], 5);
    }

    #[test]
    fn wrong_secret_forged_payload_expiry_and_garbage_are_refused() {
        let (token, _) = issue("s3cret", "u1", 5, NOW);
        assert_eq!(verify("other", &token, NOW).unwrap_err().code, 1505);

        // Swap in a payload for another user, keeping the old signature.
        let (other, _) = issue("s3cret", "u2", 5, NOW);
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = other.split('.').nth(1).unwrap();
        assert_eq!(
            verify("s3cret", &parts.join("."), NOW).unwrap_err().code,
            1505
        );

        assert_eq!(
            verify("s3cret", &token, NOW + TOKEN_TTL_SECS)
                .unwrap_err()
                .code,
            1501
        );
        for garbage in ["", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.AAAA"] {
            let code = verify("s3cret", garbage, NOW).unwrap_err().code;
            assert!((1501..=1507).contains(&code), "{garbage:?} gave {code}");
        }
    }
}
