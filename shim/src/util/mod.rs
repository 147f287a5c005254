//! Helpers that several layer kinds use: opening their output files, naming threads, writing
//! numbers.

mod decimal;
mod output_file;
mod thread_name;

pub(crate) use decimal::{decimal, push_decimal};
pub(crate) use output_file::{create_truncated, open_for_append};
pub(crate) use thread_name::os_thread_name;
