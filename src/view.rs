//! Output of lvsadm's own commands: tables for people (prettytable-rs), JSON for machines.

use std::io::{self, Write};

use prettytable::format::{FormatBuilder, LinePosition, LineSeparator};
use prettytable::{Row, Table};
use serde::Serialize;

/// A table with a rule under its titles and no borders, like `ip -br` with headings.
pub fn table(titles: &[&str], rows: Vec<Vec<String>>) -> Table {
    let format = FormatBuilder::new()
        .column_separator(' ')
        .padding(0, 2)
        .separator(LinePosition::Title, LineSeparator::new('-', '-', '-', '-'))
        .build();
    let mut table = Table::new();
    table.set_format(format);
    table.set_titles(Row::from(titles.iter().copied()));
    for row in rows {
        table.add_row(Row::from(row));
    }
    table
}

/// Prints nothing for a table without rows, like `ip` for an empty listing.
pub fn print_table(table: &Table) -> io::Result<()> {
    if table.is_empty() {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    // The padding of the last column would leave trailing blanks.
    for line in table.to_string().lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    out.flush()
}

pub fn print_json(value: &impl Serialize) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::other)?;
    writeln!(out)?;
    out.flush()
}
