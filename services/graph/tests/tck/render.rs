//! Canonical text of result values, so ours and the TCK's expected cells compare as strings:
//! labels and map keys sorted, floats in one notation, lists optionally sorted (for "ignoring
//! element order for lists").

use std::collections::{BTreeMap, HashMap};

use chatmesh_proto::graph::{self as pb, value::Kind};

/// Canonical text of one of our values.
pub(crate) fn render(value: &pb::Value, sort_lists: bool) -> String {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => "null".into(),
        Some(Kind::BoolValue(b)) => b.to_string(),
        Some(Kind::IntValue(i)) => i.to_string(),
        Some(Kind::DoubleValue(f)) => render_float(*f),
        Some(Kind::StringValue(s)) => format!("'{s}'"),
        Some(Kind::ListValue(l)) => {
            let mut items: Vec<String> = l.values.iter().map(|v| render(v, sort_lists)).collect();
            if sort_lists {
                items.sort();
            }
            format!("[{}]", items.join(", "))
        }
        Some(Kind::MapValue(m)) => render_map(
            m.entries
                .iter()
                .map(|(k, v)| (k.clone(), render(v, sort_lists)))
                .collect(),
        ),
        Some(Kind::NodeValue(n)) => render_node(n),
        Some(Kind::RelationshipValue(r)) => render_rel(r),
        Some(Kind::PathValue(p)) => {
            let mut text = String::from("<");
            for (i, node) in p.nodes.iter().enumerate() {
                if i > 0 {
                    let Some(rel) = p.relationships.get(i - 1) else {
                        return "<path with a missing relationship>".into();
                    };
                    if rel.start_node_id == p.nodes[i - 1].id {
                        text += &format!("-{}->", render_rel(rel));
                    } else {
                        text += &format!("<-{}-", render_rel(rel));
                    }
                }
                text += &render_node(node);
            }
            text + ">"
        }
    }
}

fn render_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

fn render_map(entries: BTreeMap<String, String>) -> String {
    let items: Vec<String> = entries.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{{{}}}", items.join(", "))
}

fn render_props(props: &HashMap<String, pb::Value>) -> String {
    if props.is_empty() {
        return String::new();
    }
    let map = props
        .iter()
        .map(|(k, v)| (k.clone(), render(v, false)))
        .collect();
    format!(" {}", render_map(map))
}

fn render_node(node: &pb::Node) -> String {
    let mut labels = node.labels.clone();
    labels.sort();
    let labels: String = labels.iter().map(|l| format!(":{l}")).collect();
    format!("({labels}{})", render_props(&node.properties)).replace("( {", "({")
}

fn render_rel(rel: &pb::Relationship) -> String {
    format!("[:{}{}]", rel.r#type, render_props(&rel.properties))
}

/// Parses a TCK expected cell and renders it canonically (as [`render`] would).
struct Expected<'a> {
    text: &'a [u8],
    at: usize,
    sort_lists: bool,
}

impl Expected<'_> {
    fn skip_space(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip_space();
        if self.text[self.at..].starts_with(s.as_bytes()) {
            self.at += s.len();
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Option<String> {
        self.skip_space();
        if self.eat("`") {
            let start = self.at;
            while self.text.get(self.at).is_some_and(|&c| c != b'`') {
                self.at += 1;
            }
            let name = String::from_utf8_lossy(&self.text[start..self.at]).into_owned();
            self.at += 1;
            return Some(name);
        }
        let start = self.at;
        while self
            .text
            .get(self.at)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
        {
            self.at += 1;
        }
        (self.at > start).then(|| String::from_utf8_lossy(&self.text[start..self.at]).into_owned())
    }

    fn map(&mut self) -> Option<String> {
        let mut entries = BTreeMap::new();
        if !self.eat("}") {
            loop {
                let key = self.name()?;
                if !self.eat(":") {
                    return None;
                }
                entries.insert(key, self.value()?);
                if self.eat("}") {
                    break;
                }
                if !self.eat(",") {
                    return None;
                }
            }
        }
        Some(render_map(entries))
    }

    fn props(&mut self) -> Option<String> {
        if self.eat("{") {
            let map = self.map()?;
            Some(if map == "{}" {
                String::new()
            } else {
                format!(" {map}")
            })
        } else {
            Some(String::new())
        }
    }

    fn node(&mut self) -> Option<String> {
        let mut labels = Vec::new();
        while self.eat(":") {
            labels.push(self.name()?);
        }
        labels.sort();
        let labels: String = labels.iter().map(|l| format!(":{l}")).collect();
        let props = self.props()?;
        if !self.eat(")") {
            return None;
        }
        Some(format!("({labels}{props})").replace("( {", "({"))
    }

    fn rel(&mut self) -> Option<String> {
        if !self.eat(":") {
            return None;
        }
        let t = self.name()?;
        let props = self.props()?;
        if !self.eat("]") {
            return None;
        }
        Some(format!("[:{t}{props}]"))
    }

    fn value(&mut self) -> Option<String> {
        self.skip_space();
        for word in ["null", "true", "false", "NaN"] {
            if self.eat(word) {
                return Some(word.into());
            }
        }
        if self.eat("'") {
            return self.string();
        }
        if self.eat("(") {
            return self.node();
        }
        if self.eat("<") {
            return self.path();
        }
        if self.eat("[") {
            return self.list();
        }
        if self.eat("{") {
            return self.map();
        }
        self.number()
    }

    /// The rest of a single-quoted string, after its opening quote.
    fn string(&mut self) -> Option<String> {
        let mut s = Vec::new();
        while let Some(&c) = self.text.get(self.at) {
            self.at += 1;
            match c {
                b'\\' => {
                    let escaped = self.text.get(self.at).copied();
                    s.push(match escaped {
                        Some(b'n') => b'\n',
                        Some(b't') => b'\t',
                        Some(b'r') => b'\r',
                        Some(other) => other,
                        None => return None,
                    });
                    self.at += 1;
                }
                b'\'' => return Some(format!("'{}'", String::from_utf8_lossy(&s))),
                c => s.push(c),
            }
        }
        None
    }

    /// The rest of a path `<(a)-[:R]->(b)>`, after its `<`.
    fn path(&mut self) -> Option<String> {
        if !self.eat("(") {
            return None;
        }
        let mut text = format!("<{}", self.node()?);
        loop {
            if self.eat("<-[") {
                let rel = self.rel()?;
                if !self.eat("-(") {
                    return None;
                }
                text += &format!("<-{rel}-{}", self.node()?);
            } else if self.eat("-[") {
                let rel = self.rel()?;
                if !self.eat("]->(") && !self.eat("->(") {
                    return None;
                }
                text += &format!("-{rel}->{}", self.node()?);
            } else if self.eat(">") {
                return Some(text + ">");
            } else {
                return None;
            }
        }
    }

    /// The rest of a list (or of a relationship `[:R]`), after its `[`.
    fn list(&mut self) -> Option<String> {
        self.skip_space();
        if self.text.get(self.at) == Some(&b':') {
            return self.rel();
        }
        let mut items = Vec::new();
        if !self.eat("]") {
            loop {
                items.push(self.value()?);
                if self.eat("]") {
                    break;
                }
                if !self.eat(",") {
                    return None;
                }
            }
        }
        if self.sort_lists {
            items.sort();
        }
        Some(format!("[{}]", items.join(", ")))
    }

    fn number(&mut self) -> Option<String> {
        let start = self.at;
        while self
            .text
            .get(self.at)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
        {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.text[start..self.at]).ok()?;
        if let Ok(i) = text.parse::<i64>() {
            return Some(i.to_string());
        }
        match text {
            "Infinity" | "Inf" => Some("Infinity".into()),
            "-Infinity" | "-Inf" => Some("-Infinity".into()),
            _ => text.parse::<f64>().ok().map(render_float),
        }
    }
}

pub(crate) fn expected_cell(cell: &str, sort_lists: bool) -> String {
    let mut parser = Expected {
        text: cell.as_bytes(),
        at: 0,
        sort_lists,
    };
    match parser.value() {
        Some(v) if parser.at >= cell.trim_end().len() => v,
        _ => format!("unparsed:{cell}"),
    }
}
