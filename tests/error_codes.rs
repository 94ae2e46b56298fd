//! One table of error codes (`ErrorKind::CODES`), and every binding's list agrees with it:
//! the WIT enum the component exports, the `ErrorCode` union the npm package declares, and
//! the `code` the JS errors carry (`ErrorKind::code`).

use vdk_secrets::ErrorKind;

fn table() -> Vec<&'static str> {
    ErrorKind::CODES.iter().map(|&(_, code)| code).collect()
}

#[test]
fn each_kind_has_its_own_code_in_declaration_order() {
    for (i, &(kind, code)) in ErrorKind::CODES.iter().enumerate() {
        assert_eq!(kind as usize, i, "{code}");
        assert_eq!(kind.code(), code);
        assert_eq!(kind.to_string(), code);
    }
    let mut codes = table();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), ErrorKind::CODES.len(), "codes are unique");
}

#[test]
fn the_wit_enum_lists_the_table() {
    let wit = include_str!("../wit/vdk-secrets.wit");
    let start = wit
        .find("enum error-code {")
        .expect("the WIT declares error-code");
    let body = &wit[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
    let cases: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .map(|line| line.trim_end_matches(','))
        .collect();
    assert_eq!(cases, table());
}

#[test]
fn the_typescript_union_lists_the_table() {
    let source = include_str!("../src/js/mod.rs");
    let start = source
        .find("export type ErrorCode =")
        .expect("the npm types declare ErrorCode");
    let union = &source[start + "export type ErrorCode =".len()..];
    let union = &union[..union.find(';').unwrap()];
    let members: Vec<&str> = union
        .split('|')
        .map(|member| member.trim().trim_matches('"'))
        .collect();
    assert_eq!(members, table());
}
