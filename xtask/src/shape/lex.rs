//! A small lexer for Rust and JavaScript source, enough for the shape
//! checks: identifiers, `::`, punctuation and string literals with their
//! line, comments kept apart, so that nothing inside a comment or a string
//! is read as code and nothing in code is read as a string.

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An identifier or keyword (`r#type` gives `type`).
    Ident(String),
    /// A string literal's text between its quotes, escapes left as written
    /// (a JavaScript template literal only when it has no `${`).
    Str(String),
    /// `::`.
    PathSep,
    /// Any other single character of code.
    Punct(char),
    /// A number, a char literal, a lifetime, a regular expression or a
    /// template literal with substitutions.
    Other,
}

/// One token and the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    /// The line it starts on.
    pub line: usize,
}

/// A file's tokens and its comments (with the line each starts on).
#[derive(Debug, Default)]
pub struct Lexed {
    /// The code, in order.
    pub tokens: Vec<Token>,
    /// Each comment's line and text, markers included.
    pub comments: Vec<(usize, String)>,
}

impl Lexed {
    /// The comments that start on `line`.
    pub fn comments_on(&self, line: usize) -> impl Iterator<Item = &str> {
        self.comments
            .iter()
            .filter(move |(at, _)| *at == line)
            .map(|(_, text)| text.as_str())
    }
}

/// The language a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Rust.
    Rust,
    /// JavaScript (ES modules).
    Js,
}

struct Cursor {
    chars: Vec<char>,
    at: usize,
    line: usize,
}

impl Cursor {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    /// Consumes a quoted body up to the closing `quote` (the opening one is
    /// consumed already), honouring backslash escapes; returns the body.
    fn quoted(&mut self, quote: char) -> String {
        let start = self.at;
        let mut end = self.at;
        while let Some(c) = self.bump() {
            if c == '\\' {
                self.bump();
            } else if c == quote {
                break;
            }
            end = self.at;
        }
        self.text(start, end)
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Lexes `source` as `lang`.
pub fn lex(source: &str, lang: Lang) -> Lexed {
    let mut cur = Cursor {
        chars: source.chars().collect(),
        at: 0,
        line: 1,
    };
    let mut out = Lexed::default();
    // JavaScript: open template literals whose `${` we are inside, with the
    // brace depth at which each substitution closes.
    let mut templates: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    while let Some(c) = cur.peek(0) {
        let line = cur.line;
        let start = cur.at;
        if c.is_whitespace() {
            cur.bump();
            continue;
        }
        if c == '/' && cur.peek(1) == Some('/') {
            while cur.peek(0).is_some_and(|c| c != '\n') {
                cur.bump();
            }
            out.comments.push((line, cur.text(start, cur.at)));
            continue;
        }
        if c == '/' && cur.peek(1) == Some('*') {
            block_comment(&mut cur, lang);
            out.comments.push((line, cur.text(start, cur.at)));
            continue;
        }
        let kind = match lang {
            Lang::Rust => rust_token(&mut cur),
            Lang::Js => {
                if c == '}' && templates.last() == Some(&depth) {
                    templates.pop();
                    cur.bump();
                    template(&mut cur, &mut templates, depth, true)
                } else {
                    let kind = js_token(&mut cur, &mut templates, depth, out.tokens.last());
                    match kind {
                        Kind::Punct('{') => depth += 1,
                        Kind::Punct('}') => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    kind
                }
            }
        };
        out.tokens.push(Token { kind, line });
    }
    out
}

fn block_comment(cur: &mut Cursor, lang: Lang) {
    cur.bump();
    cur.bump();
    let mut nesting = 1;
    while nesting > 0 {
        match (cur.peek(0), cur.peek(1)) {
            (None, _) => return,
            (Some('*'), Some('/')) => {
                cur.bump();
                cur.bump();
                nesting -= 1;
            }
            // Rust's block comments nest; JavaScript's do not.
            (Some('/'), Some('*')) if lang == Lang::Rust => {
                cur.bump();
                cur.bump();
                nesting += 1;
            }
            _ => {
                cur.bump();
            }
        }
    }
}

fn rust_token(cur: &mut Cursor) -> Kind {
    let Some(c) = cur.peek(0) else {
        return Kind::Other;
    };
    // Raw strings and byte strings: r"..", r#".."#, br"..", b"..", b'.'.
    let prefix = match (c, cur.peek(1), cur.peek(2)) {
        ('b', Some('r'), Some('"' | '#')) => Some((2, true)),
        ('r', Some('"'), _) => Some((1, true)),
        ('r', Some('#'), Some('"' | '#')) => Some((1, true)),
        ('b', Some('"'), _) | ('c', Some('"'), _) => Some((1, false)),
        ('b', Some('\''), _) => {
            cur.bump();
            cur.bump();
            cur.quoted('\'');
            return Kind::Other;
        }
        _ => None,
    };
    if let Some((skip, raw)) = prefix {
        for _ in 0..skip {
            cur.bump();
        }
        if raw {
            return raw_string(cur);
        }
        cur.bump();
        return Kind::Str(cur.quoted('"'));
    }
    if c == '"' {
        cur.bump();
        return Kind::Str(cur.quoted('"'));
    }
    if c == '\'' {
        // A char literal ('a', '\n', '\'') or a lifetime ('a, 'static).
        cur.bump();
        if cur.peek(0) == Some('\\') || cur.peek(1) == Some('\'') {
            cur.quoted('\'');
        } else {
            while cur.peek(0).is_some_and(is_ident_char) {
                cur.bump();
            }
        }
        return Kind::Other;
    }
    if c == 'r' && cur.peek(1) == Some('#') && cur.peek(2).is_some_and(is_ident_start) {
        cur.bump();
        cur.bump();
    }
    if let Some(kind) = word(cur, c) {
        return kind;
    }
    cur.bump();
    if c == ':' && cur.peek(0) == Some(':') {
        cur.bump();
        return Kind::PathSep;
    }
    Kind::Punct(c)
}

fn raw_string(cur: &mut Cursor) -> Kind {
    let mut hashes = 0;
    while cur.peek(0) == Some('#') {
        cur.bump();
        hashes += 1;
    }
    cur.bump(); // the opening quote
    let start = cur.at;
    loop {
        let end = cur.at;
        match cur.bump() {
            None => return Kind::Str(cur.text(start, end)),
            Some('"') => {
                if (0..hashes).all(|i| cur.peek(i) == Some('#')) {
                    for _ in 0..hashes {
                        cur.bump();
                    }
                    return Kind::Str(cur.text(start, end));
                }
            }
            Some(_) => {}
        }
    }
}

fn number(cur: &mut Cursor) {
    while let Some(c) = cur.peek(0) {
        let fraction = c == '.' && cur.peek(1).is_some_and(|d| d.is_ascii_digit());
        if is_ident_char(c) || fraction {
            cur.bump();
        } else {
            break;
        }
    }
}

fn js_token(
    cur: &mut Cursor,
    templates: &mut Vec<usize>,
    depth: usize,
    previous: Option<&Token>,
) -> Kind {
    let Some(c) = cur.peek(0) else {
        return Kind::Other;
    };
    if c == '"' || c == '\'' {
        cur.bump();
        return Kind::Str(cur.quoted(c));
    }
    if c == '`' {
        cur.bump();
        return template(cur, templates, depth, false);
    }
    if let Some(kind) = word(cur, c) {
        return kind;
    }
    if c == '/' && regex_may_start(previous) {
        cur.bump();
        let mut class = false;
        while let Some(c) = cur.bump() {
            match c {
                '\\' => {
                    cur.bump();
                }
                '[' => class = true,
                ']' => class = false,
                '/' if !class => break,
                '\n' => break,
                _ => {}
            }
        }
        while cur.peek(0).is_some_and(is_ident_char) {
            cur.bump();
        }
        return Kind::Other;
    }
    cur.bump();
    Kind::Punct(c)
}

/// A `/` starts a regular expression after an operator, an opening
/// bracket, a comma or a keyword, and divides after a value.
fn regex_may_start(previous: Option<&Token>) -> bool {
    match previous.map(|t| &t.kind) {
        None => true,
        Some(Kind::Punct(')' | ']' | '}')) => false,
        Some(Kind::Punct(_)) => true,
        Some(Kind::Ident(word)) => matches!(
            word.as_str(),
            "return" | "typeof" | "case" | "do" | "else" | "in" | "of" | "new" | "void" | "yield"
        ),
        Some(_) => false,
    }
}

/// A template literal's text from just after its opening backtick (or the
/// `}` closing a substitution) to its closing backtick or next `${`.
fn template(cur: &mut Cursor, templates: &mut Vec<usize>, depth: usize, resumed: bool) -> Kind {
    let start = cur.at;
    let mut end = cur.at;
    while let Some(c) = cur.bump() {
        match c {
            '\\' => {
                cur.bump();
            }
            '`' => {
                return if resumed {
                    Kind::Other
                } else {
                    Kind::Str(cur.text(start, end))
                };
            }
            '$' if cur.peek(0) == Some('{') => {
                cur.bump();
                templates.push(depth);
                return Kind::Other;
            }
            _ => {}
        }
        end = cur.at;
    }
    Kind::Other
}

/// An identifier or a number starting at `c`, read whole; the same in Rust
/// and in JavaScript.
fn word(cur: &mut Cursor, c: char) -> Option<Kind> {
    if is_ident_start(c) {
        let start = cur.at;
        while cur.peek(0).is_some_and(is_ident_char) {
            cur.bump();
        }
        return Some(Kind::Ident(cur.text(start, cur.at)));
    }
    if c.is_ascii_digit() {
        number(cur);
        return Some(Kind::Other);
    }
    None
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn strings(source: &str, lang: Lang) -> Vec<(String, usize)> {
        lex(source, lang)
            .tokens
            .into_iter()
            .filter_map(|t| match t.kind {
                Kind::Str(s) => Some((s, t.line)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn rust_strings_not_comments_chars_or_lifetimes() {
        let source = "// \"no\"\nfn f<'a>(x: &'a str) -> char {\n  /* \"no\" /* nested */ \"no\" */\n  let _ = r#\"raw \"q\"\"#;\n  let _ = \"a\\\"b\";\n  '\"'\n}\n";
        assert_eq!(
            strings(source, Lang::Rust),
            vec![("raw \"q\"".to_string(), 4), ("a\\\"b".to_string(), 5)]
        );
        let lexed = lex(source, Lang::Rust);
        assert_eq!(lexed.comments.len(), 2);
        assert_eq!(lexed.comments[0].0, 1);
    }

    #[test]
    fn rust_paths_are_idents_and_separators() {
        let kinds: Vec<Kind> = lex("crate::a::B", Lang::Rust)
            .tokens
            .into_iter()
            .map(|t| t.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                Kind::Ident("crate".into()),
                Kind::PathSep,
                Kind::Ident("a".into()),
                Kind::PathSep,
                Kind::Ident("B".into()),
            ]
        );
    }

    #[test]
    fn js_templates_regexes_and_quotes() {
        let source = "const a = `plain`;\nconst b = `x ${ {k: 'in'}.k } \"no\" ${'two'}`;\nconst r = s.split(/\"no\"/)[0] / 2;\n// 'no'\nconst c = \"yes\";\n";
        assert_eq!(
            strings(source, Lang::Js),
            vec![
                ("plain".to_string(), 1),
                ("in".to_string(), 2),
                ("two".to_string(), 2),
                ("yes".to_string(), 5),
            ]
        );
    }
}
