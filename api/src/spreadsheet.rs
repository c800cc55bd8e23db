//! CSV that a spreadsheet opens safely, as French Excel expects it: `;` between cells, UTF-8
//! with a byte-order mark, one header row, and no cell that a spreadsheet would run as a
//! formula (a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
//! leading `'`, as OWASP recommends against CSV injection).

use std::borrow::Cow;

/// The byte-order mark that tells Excel the file is UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell as written: defused if a spreadsheet would read it as a formula.
pub fn cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// Rows written to bytes, a batch at a time (for a streamed answer).
#[derive(Debug)]
pub struct Sheet {
    writer: csv::Writer<Vec<u8>>,
}

fn writer(start: Vec<u8>) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().delimiter(b';').from_writer(start)
}

impl Sheet {
    /// A sheet that starts with the byte-order mark and the header row.
    pub fn with_header(header: &[&str]) -> Self {
        let mut sheet = Self {
            writer: writer(BOM.to_vec()),
        };
        sheet.row(header.iter().copied());
        sheet
    }

    /// Appends a row, every cell defused.
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        // Writing to a Vec cannot fail.
        let _ = self
            .writer
            .write_record(cells.into_iter().map(|c| cell(c).into_owned()));
    }

    /// The bytes written so far; the sheet starts over empty.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.writer, writer(Vec::new()))
            .into_inner()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_text_is_kept() {
        for (raw, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+33612345678", "'+33612345678"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Élodie", "Élodie"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(cell(raw), written);
        }
    }

    #[test]
    fn a_sheet_has_a_bom_a_header_and_semicolons() {
        let mut sheet = Sheet::with_header(&["name", "note"]);
        sheet.row(["Dupont; Jean", "=1+1"]);
        let bytes = sheet.take();
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(text, "name;note\n\"Dupont; Jean\";'=1+1\n");
        assert!(sheet.take().is_empty());
    }
}
