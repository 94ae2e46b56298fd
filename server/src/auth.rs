//! Client authentication: bearer tokens from a tokens file, each granted some teams.
//!
//! The file stores SHA-256 hashes, never tokens, so reading it does not reveal a credential:
//!
//! ```text
//! # [name]  sha256 of the token                                                teams (* = every team)
//! sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b  team-a team-b
//! alice sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8  *
//! ```
//!
//! A line may begin with a name for the token's holder, which the version history and the
//! audit log record as the writer (a token without a name writes as an unknown writer).
//! `vdk-secrets-server hash-token [--name NAME]` prints such a line for a token read from
//! stdin.

use std::collections::HashSet;
use std::path::Path;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Who may do what.
pub enum Access {
    /// Dev mode: everyone may access every team.
    Open,
    /// Only the listed tokens, each for its teams.
    Tokens(Vec<Grant>),
}

/// One line of the tokens file.
pub struct Grant {
    hash: [u8; 32],
    teams: Teams,
    name: Option<String>,
}

/// Who a request comes from, as far as the history and the audit log are concerned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Who(pub Option<String>);

/// The name dev mode writes as.
pub const DEV_NAME: &str = "dev";

/// Longest name of a token's holder, in characters.
pub const MAX_NAME_CHARS: usize = 64;

enum Teams {
    All,
    Only(HashSet<String>),
}

impl Access {
    /// Reads and checks a tokens file; errors name the file and the line.
    pub fn from_file(path: &Path) -> Result<Access, String> {
        check_not_writable_by_others(path, "tokens file")?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the tokens file {}: {e}", path.display()))?;
        let grants = parse_tokens(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if grants.is_empty() {
            return Err(format!(
                "the tokens file {} grants no token; add a line made by `vdk-secrets-server hash-token`",
                path.display()
            ));
        }
        Ok(Access::Tokens(grants))
    }

    /// Checks the request's bearer token for `team`: 401 without a known token, 403 when the
    /// token is known but not granted the team. Returns who the token belongs to.
    pub fn check(&self, headers: &HeaderMap, team: &str) -> Result<Who, ApiError> {
        let Access::Tokens(grants) = self else {
            return Ok(Who(Some(DEV_NAME.to_string())));
        };
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| ApiError::unauthorized("the request has no bearer token"))?;
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare every grant in constant time, so timing tells nothing about near matches.
        let grant = grants
            .iter()
            .fold(None, |found, g| {
                if equal(&g.hash, &hash) {
                    Some(g)
                } else {
                    found
                }
            })
            .ok_or_else(|| ApiError::unauthorized("the token is not known to this server"))?;
        match &grant.teams {
            Teams::All => {}
            Teams::Only(teams) if teams.contains(team) => {}
            Teams::Only(_) => return Err(ApiError::forbidden(team)),
        }
        Ok(Who(grant.name.clone()))
    }
}

/// Refuses a credential file (a key, a Vault token or secret id) that users other than its
/// owner may read or write, as ssh refuses such private keys; links are followed, so a
/// mounted secret is judged by the file it points at.
pub fn check_private_file(path: &Path, what: &str) -> Result<(), String> {
    let mode = file_mode(path, what)?;
    if mode & 0o077 != 0 {
        return Err(format!(
            "the {what} {} can be read or written by other users (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

/// Refuses a file that grants access (the tokens file) when users other than its owner may
/// write it: anyone who can add a line could grant themselves every team. Reading is fine,
/// since it holds hashes only.
pub fn check_not_writable_by_others(path: &Path, what: &str) -> Result<(), String> {
    let mode = file_mode(path, what)?;
    if mode & 0o022 != 0 {
        return Err(format!(
            "the {what} {} can be written by other users (mode {:o}), who could grant \
             themselves access; run `chmod go-w {}`",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

fn file_mode(path: &Path, what: &str) -> Result<u32, String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|meta| meta.permissions().mode())
        .map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))
}

fn equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The tokens-file line granting `token` the given teams, for the holder `name` if given.
pub fn tokens_file_line(
    token: &str,
    teams: &[String],
    name: Option<&str>,
) -> Result<String, String> {
    if let Some(name) = name {
        name_problem(name).map_or(Ok(()), Err)?;
    }
    let hash = Sha256::digest(token.trim().as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let teams = if teams.is_empty() {
        "*".to_string()
    } else {
        teams.join(" ")
    };
    Ok(match name {
        Some(name) => format!("{name} sha256:{hex} {teams}"),
        None => format!("sha256:{hex} {teams}"),
    })
}

/// Why `name` cannot name a token's holder, if it cannot.
fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Some(format!("a name has 1 to {MAX_NAME_CHARS} characters"));
    }
    if name.starts_with("sha256:") || name.starts_with('#') {
        return Some("a name must not begin with `sha256:` or `#`".into());
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("a name holds no whitespace or control characters".into());
    }
    None
}

fn parse_tokens(text: &str) -> Result<Vec<Grant>, String> {
    let mut grants = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |why: &str| format!("line {}: {why}", index + 1);
        let mut fields = line.split_whitespace().peekable();
        let name = match fields.peek() {
            Some(first) if !first.starts_with("sha256:") => {
                let name = fields.next().unwrap_or_default();
                if let Some(problem) = name_problem(name) {
                    return Err(at(&format!("the name `{name}` is not valid: {problem}")));
                }
                Some(name.to_string())
            }
            _ => None,
        };
        let hash = fields.next().unwrap_or_default();
        let hex = hash
            .strip_prefix("sha256:")
            .ok_or_else(|| at("expected `sha256:<64 hex digits>` first (a hash, not a token)"))?;
        let hash = parse_hex(hex).ok_or_else(|| at("the hash is not 64 hex digits"))?;
        let teams: Vec<&str> = fields.collect();
        let teams = match teams.as_slice() {
            [] => {
                return Err(at(
                    "no teams listed; list team names, or `*` for every team",
                ));
            }
            ["*"] => Teams::All,
            names => Teams::Only(names.iter().map(|s| s.to_string()).collect()),
        };
        grants.push(Grant { hash, teams, name });
    }
    Ok(grants)
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", auth.parse().unwrap());
        h
    }

    fn access(lines: &[String]) -> Access {
        Access::Tokens(parse_tokens(&lines.join("\n")).unwrap())
    }

    #[test]
    fn grants_listed_teams_only() {
        let a = access(&[tokens_file_line("tok-a", &["team-a".into()], None).unwrap()]);
        assert!(a.check(&headers("Bearer tok-a"), "team-a").is_ok());
        assert!(a.check(&headers("bearer tok-a"), "team-a").is_ok());
        let e = a.check(&headers("Bearer tok-a"), "team-b").unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
    }

    #[test]
    fn star_grants_every_team() {
        let a = access(&[tokens_file_line("admin", &[], None).unwrap()]);
        assert!(a.check(&headers("Bearer admin"), "anything").is_ok());
    }

    #[test]
    fn missing_or_unknown_token_is_unauthorized() {
        let a = access(&[tokens_file_line("tok", &["t".into()], None).unwrap()]);
        for h in [
            HeaderMap::new(),
            headers("Bearer other"),
            headers("Basic dG9r"),
            headers("tok"),
        ] {
            assert_eq!(
                a.check(&h, "t").unwrap_err().status,
                StatusCode::UNAUTHORIZED
            );
        }
    }

    #[test]
    fn malformed_lines_are_reported_by_number() {
        let e = parse_tokens("# comment\n\nplain-token team").err().unwrap();
        assert!(e.starts_with("line 3:"), "{e}");
        let e = parse_tokens("sha256:abcd team").err().unwrap();
        assert!(e.contains("64 hex"), "{e}");
        let line = tokens_file_line("t", &[], None).unwrap();
        let no_teams = line.split_whitespace().next().unwrap();
        assert!(parse_tokens(no_teams).err().unwrap().contains("no teams"));
    }

    #[test]
    fn a_named_token_writes_under_its_name() {
        let a = access(&[
            tokens_file_line("tok-a", &["t".into()], Some("alice")).unwrap(),
            tokens_file_line("tok-b", &["t".into()], None).unwrap(),
        ]);
        assert_eq!(
            a.check(&headers("Bearer tok-a"), "t").unwrap(),
            Who(Some("alice".into()))
        );
        assert_eq!(a.check(&headers("Bearer tok-b"), "t").unwrap(), Who(None));
        assert_eq!(
            Access::Open.check(&HeaderMap::new(), "t").unwrap(),
            Who(Some("dev".into()))
        );
        assert!(tokens_file_line("t", &[], Some("two words")).is_err());
        let e = parse_tokens("bad\u{7} sha256:00 t").err().unwrap();
        assert!(e.contains("not valid"), "{e}");
    }

    #[test]
    fn the_file_holds_no_token() {
        let line = tokens_file_line("super-secret-token", &["t".into()], None).unwrap();
        assert!(!line.contains("super-secret-token"));
    }
}
