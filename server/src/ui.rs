//! The Operations UI's files, served at `/` from `--ui-dir`.
//!
//! Only the page's own files are served: regular files (never a symlink, nor anything reached
//! through one) with an extension a page loads (`.html .js .mjs .css .wasm .svg .png .ico`),
//! outside `tests/` and `node_modules/`, and not dotfiles; `/` is `index.html`. Everything
//! else (`README.md`, `prepare.sh`, `package.json`, the browser tests) is the API's 404.
//!
//! Every file comes with `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
//! `Referrer-Policy: no-referrer`, `Cache-Control: no-cache`, and a
//! `Content-Security-Policy` that is the page's own (the `<meta>` in `index.html`, read at
//! start) plus `frame-ancestors 'none'`, which a `<meta>` cannot set.

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::logging::RouteName;

/// The policy used when `index.html` has no CSP `<meta>`: the one the project's page has.
const DEFAULT_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
                           style-src 'self'; img-src 'self' data:; connect-src 'self' http: \
                           https:; base-uri 'none'; form-action 'none'";

/// No page file is larger; a larger one is not served.
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// The UI directory and the headers of its answers.
pub struct Ui {
    /// The directory, symlinks resolved once at start.
    root: PathBuf,
    /// One value per policy of the page.
    csp: Vec<HeaderValue>,
}

impl Ui {
    /// The UI in `dir`; its `index.html` gives the page's Content-Security-Policy.
    pub fn new(dir: &Path) -> Ui {
        let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let html = std::fs::read_to_string(root.join("index.html")).unwrap_or_default();
        let mut policies = meta_policies(&html);
        if policies.is_empty() {
            tracing::warn!(
                "the UI's index.html has no Content-Security-Policy <meta>; serving it with \
                 the project page's policy"
            );
            policies.push(DEFAULT_CSP.to_string());
        }
        let csp = policies
            .iter()
            .filter_map(|policy| with_frame_ancestors(policy))
            .collect::<Vec<_>>();
        let csp = if csp.is_empty() {
            vec![with_frame_ancestors(DEFAULT_CSP).expect("the default policy is a header value")]
        } else {
            csp
        };
        Ui { root, csp }
    }

    /// Answers a request that matched no API route.
    pub async fn serve(self: Arc<Self>, request: Request) -> Response {
        let Some(relative) = page_file(request.uri().path()) else {
            return ApiError::not_found().into_response();
        };
        let ui = self.clone();
        let file = tokio::task::spawn_blocking(move || ui.read(&relative)).await;
        let Ok(Some((bytes, content_type))) = file else {
            return ApiError::not_found().into_response();
        };
        let method = request.method();
        if method != Method::GET && method != Method::HEAD {
            let mut response = ApiError::method_not_allowed("GET, HEAD").into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let mut response = bytes.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        for policy in &self.csp {
            headers.append(header::CONTENT_SECURITY_POLICY, policy.clone());
        }
        response.extensions_mut().insert(RouteName("(ui)"));
        response
    }

    /// The content and type of the page file at `relative` (checked by [`page_file`]), if it
    /// is a regular file reached without any symlink.
    fn read(&self, relative: &Path) -> Option<(Vec<u8>, &'static str)> {
        let content_type = content_type(relative)?;
        let file = open_beneath(&self.root, relative).ok()?;
        let metadata = file.metadata().ok()?;
        if !metadata.is_file() || metadata.len() > MAX_FILE_BYTES {
            return None;
        }
        let mut bytes = Vec::with_capacity(metadata.len() as usize);
        file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).ok()?;
        (bytes.len() as u64 <= MAX_FILE_BYTES).then_some((bytes, content_type))
    }
}

/// Opens `relative` below `root` one component at a time, each relative to the directory
/// opened before it and with `O_NOFOLLOW`: a symlink anywhere below `root` fails the open, and
/// a path changed while it is walked cannot lead elsewhere.
fn open_beneath(root: &Path, relative: &Path) -> std::io::Result<File> {
    let mut current = File::open(root)?;
    let parts: Vec<Component> = relative.components().collect();
    for (index, part) in parts.iter().enumerate() {
        let Component::Normal(name) = part else {
            return Err(std::io::ErrorKind::InvalidInput.into());
        };
        let name = CString::new(name.as_bytes())?;
        // The file itself without blocking (a FIFO would block; it is refused after the
        // open as not a regular file), every directory on the way as a directory.
        let kind = if index + 1 == parts.len() {
            libc::O_NONBLOCK
        } else {
            libc::O_DIRECTORY
        };
        let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC | kind;
        // SAFETY: `current` is an open descriptor and `name` a NUL-terminated string; both
        // outlive the call.
        let fd = unsafe { libc::openat(current.as_raw_fd(), name.as_ptr(), flags) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and nothing else owns it.
        current = unsafe { File::from_raw_fd(fd) };
    }
    Ok(current)
}

/// The file a request path names, relative to the UI directory, if it may be a page file:
/// each segment percent-decoded to UTF-8, none empty, a dotfile (`.`, `..` included), holding
/// a separator or NUL, or `tests` or `node_modules`; with an allowed extension.
fn page_file(path: &str) -> Option<PathBuf> {
    let path = path.strip_prefix('/')?;
    if path.is_empty() {
        return Some(PathBuf::from("index.html"));
    }
    let mut relative = PathBuf::new();
    for segment in path.split('/') {
        let name = percent_decode(segment)?;
        let hidden = ["tests", "node_modules"]
            .iter()
            .any(|dir| name.eq_ignore_ascii_case(dir));
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\', '\0']) || hidden {
            return None;
        }
        relative.push(name);
    }
    content_type(&relative)?;
    Some(relative)
}

/// The content type of a page file, by its extension; None for any other file.
fn content_type(path: &Path) -> Option<&'static str> {
    let extension = path.extension()?.to_str()?;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => return None,
    })
}

/// `%XX` escapes decoded; None for a malformed escape or a result that is not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The policies of the page's `<meta http-equiv="Content-Security-Policy" content="...">`
/// tags, whitespace normalised.
fn meta_policies(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut policies = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<meta") {
        let start = from + at + "<meta".len();
        let Some(len) = lower[start..].find('>') else {
            break;
        };
        let tag = &html[start..start + len];
        from = start + len;
        let attributes = attributes(tag);
        let is_csp = attributes.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("http-equiv")
                && value.trim().eq_ignore_ascii_case("content-security-policy")
        });
        let content = attributes
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content"));
        if let (true, Some((_, content))) = (is_csp, content) {
            let policy = unescape(content)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if !policy.is_empty() {
                policies.push(policy);
            }
        }
    }
    policies
}

/// The attributes of a tag's text (after its name): `name="v"`, `name='v'`, `name=v`, `name`.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = tag.trim_start();
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, remaining) = match after.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let end = body.find(quote).unwrap_or(body.len());
                    (&body[..end], body.get(end + 1..).unwrap_or(""))
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = v.to_string();
            rest = remaining;
        } else if name.is_empty() {
            // A stray `/` or similar.
            rest = &rest[rest.chars().next().map_or(0, char::len_utf8)..];
        }
        if !name.is_empty() {
            found.push((name.to_string(), value));
        }
        rest = rest.trim_start();
    }
    found
}

/// The character references a CSP may hold in an attribute.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `policy` with its own `frame-ancestors` (ignored in a `<meta>`) replaced by
/// `frame-ancestors 'none'`, as a header value; None if it cannot be one.
fn with_frame_ancestors(policy: &str) -> Option<HeaderValue> {
    let mut directives: Vec<&str> = policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter(|d| {
            let name = d.split_whitespace().next().unwrap_or_default();
            !name.eq_ignore_ascii_case("frame-ancestors")
        })
        .collect();
    directives.push("frame-ancestors 'none'");
    HeaderValue::from_str(&directives.join("; ")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_projects_page_policy_is_found() {
        let html = include_str!("../../www/index.html");
        let policies = meta_policies(html);
        assert_eq!(policies, [DEFAULT_CSP]);
        assert_eq!(
            with_frame_ancestors(&policies[0]).unwrap(),
            format!("{DEFAULT_CSP}; frame-ancestors 'none'")
        );
    }

    #[test]
    fn meta_tags_are_read_whatever_their_spelling() {
        let html = "<META content='a  b;\n c &amp; d' HTTP-EQUIV=Content-Security-Policy />\
                    <meta name=\"referrer\" content=\"no-referrer\">\
                    <meta http-equiv=\"content-security-policy\" content=\"x; frame-ancestors *\">";
        assert_eq!(meta_policies(html), ["a b; c & d", "x; frame-ancestors *"]);
        assert_eq!(
            with_frame_ancestors("x; frame-ancestors *").unwrap(),
            "x; frame-ancestors 'none'"
        );
        assert!(meta_policies("<meta charset=utf-8>").is_empty());
    }

    #[test]
    fn files_are_opened_only_without_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("ui/sub")).unwrap();
        std::fs::write(root.join("ui/sub/a.js"), "a").unwrap();
        std::fs::write(root.join("outside.js"), "outside").unwrap();
        std::os::unix::fs::symlink(root.join("outside.js"), root.join("ui/link.js")).unwrap();
        std::os::unix::fs::symlink(root.join("ui/sub"), root.join("ui/linked")).unwrap();
        let ui = root.join("ui");
        assert!(open_beneath(&ui, Path::new("sub/a.js")).is_ok());
        for path in ["link.js", "linked/a.js", "missing.js", "../outside.js"] {
            assert!(open_beneath(&ui, Path::new(path)).is_err(), "{path}");
        }
    }

    #[test]
    fn only_page_files_are_named() {
        assert_eq!(page_file("/"), Some("index.html".into()));
        assert_eq!(page_file("/app.js"), Some("app.js".into()));
        assert_eq!(
            page_file("/vendor/vdk-secrets/vdk_secrets_bg.wasm"),
            Some("vendor/vdk-secrets/vdk_secrets_bg.wasm".into())
        );
        assert_eq!(page_file("/a%20b.css"), Some("a b.css".into()));
        for path in [
            "",
            "app.js",
            "/README.md",
            "/prepare.sh",
            "/package.json",
            "/app.js.map",
            "/vendor",
            "/vendor/",
            "//app.js",
            "/.env.js",
            "/./app.js",
            "/../app.js",
            "/%2e%2e/app.js",
            "/a%2fb.js",
            "/a%5cb.js",
            "/a%00.js",
            "/%ff.js",
            "/%zz.js",
            "/%2.js",
            "/tests/a.test.mjs",
            "/Tests/a.mjs",
            "/x/node_modules/y.js",
        ] {
            assert_eq!(page_file(path), None, "{path}");
        }
    }
}
