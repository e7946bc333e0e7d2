//! Reading the TCK's Gherkin feature files: scenarios with their steps (doc strings and
//! tables), Backgrounds prepended, Scenario Outlines expanded once per Examples row.

#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// The step line, keyword included.
    pub keyword_line: String,
    /// Its doc string (a query), if any.
    pub doc: Option<String>,
    /// Its table rows, if any.
    pub table: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    /// Its name; outline expansions end in " #n" (the example row).
    pub name: String,
    /// Background steps, then its own.
    pub steps: Vec<Step>,
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cell).trim().to_owned()),
            c => cell.push(c),
        }
    }
    out.push(cell.trim().to_owned());
    out
}

/// Ends the current scenario: a plain one as it is, an outline once per Examples row.
fn flush(
    current: &mut Option<(Scenario, bool)>,
    examples: &mut Vec<Vec<String>>,
    out: &mut Vec<Scenario>,
) {
    if let Some((scenario, outline)) = current.take() {
        if outline && examples.len() > 1 {
            expand_outline(&scenario, examples, out);
        } else if !outline {
            out.push(scenario);
        }
    }
    examples.clear();
}

/// Expands an outline: one scenario per row after the header, `<column>` replaced by its cell.
fn expand_outline(scenario: &Scenario, examples: &[Vec<String>], out: &mut Vec<Scenario>) {
    let header = examples[0].clone();
    for (n, row) in examples[1..].iter().enumerate() {
        let sub = |s: &str| {
            header
                .iter()
                .zip(row)
                .fold(s.to_owned(), |s, (h, v)| s.replace(&format!("<{h}>"), v))
        };
        out.push(Scenario {
            name: format!("{} #{}", scenario.name, n + 1),
            steps: scenario
                .steps
                .iter()
                .map(|st| Step {
                    keyword_line: sub(&st.keyword_line),
                    doc: st.doc.as_deref().map(sub),
                    table: st
                        .table
                        .iter()
                        .map(|r| r.iter().map(|c| sub(c)).collect())
                        .collect(),
                })
                .collect(),
        });
    }
}

/// Reads a feature file into scenarios, expanding Scenario Outlines with their Examples.
pub(crate) fn scenarios(text: &str) -> Vec<Scenario> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut current: Option<(Scenario, bool)> = None;
    let mut examples: Vec<Vec<String>> = Vec::new();
    let mut in_examples = false;
    let mut background: Vec<Step> = Vec::new();
    while i < lines.len() {
        let line = lines[i].trim();
        if line.starts_with("Background:") {
            current = Some((
                Scenario {
                    name: "Background".into(),
                    steps: Vec::new(),
                },
                false,
            ));
        } else if let Some(name) = line
            .strip_prefix("Scenario Outline:")
            .map(|n| (n, true))
            .or_else(|| line.strip_prefix("Scenario:").map(|n| (n, false)))
        {
            if let Some((scenario, _)) = current.as_ref()
                && scenario.name == "Background"
            {
                background = scenario.steps.clone();
                current = None;
            }
            flush(&mut current, &mut examples, &mut out);
            in_examples = false;
            current = Some((
                Scenario {
                    name: name.0.trim().to_owned(),
                    steps: background.clone(),
                },
                name.1,
            ));
        } else if line.starts_with("Examples:") {
            in_examples = true;
        } else if line.starts_with('|') {
            if in_examples {
                examples.push(cells(line));
            } else if let Some((scenario, _)) = current.as_mut()
                && let Some(step) = scenario.steps.last_mut()
            {
                step.table.push(cells(line));
            }
        } else if line.starts_with("\"\"\"") {
            let mut doc = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim().starts_with("\"\"\"") {
                doc.push(lines[i].trim());
                i += 1;
            }
            if let Some((scenario, _)) = current.as_mut()
                && let Some(step) = scenario.steps.last_mut()
            {
                step.doc = Some(doc.join("\n"));
            }
        } else if ["Given", "And", "When", "Then", "But"]
            .iter()
            .any(|k| line.starts_with(k))
            && let Some((scenario, _)) = current.as_mut()
        {
            in_examples = false;
            scenario.steps.push(Step {
                keyword_line: line.to_owned(),
                doc: None,
                table: Vec::new(),
            });
        }
        i += 1;
    }
    flush(&mut current, &mut examples, &mut out);
    out
}
