//! The spreadsheets staff download: CSV that Excel in Chinese opens as it is (UTF-8 with a byte order mark),
//! with times in China Standard Time, where the organisations and their members are.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// Makes Excel read the file as UTF-8.
const BOM: &str = "\u{feff}";

/// A sheet being written, its header row first.
pub struct Sheet {
    csv: csv::Writer<Vec<u8>>,
}

fn failed(error: csv::Error) -> AppError {
    AppError::Internal(error.to_string())
}

impl Sheet {
    pub fn new(header: &[&str]) -> Result<Sheet, AppError> {
        let mut sheet = Sheet {
            csv: csv::Writer::from_writer(BOM.as_bytes().to_vec()),
        };
        sheet.row(header)?;
        Ok(sheet)
    }

    pub fn row<I, T>(&mut self, fields: I) -> Result<(), AppError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.csv.write_record(fields).map_err(failed)
    }

    /// The sheet as a download named `filename` (ASCII, as every browser takes it in the header).
    pub fn download(self, filename: &str) -> Result<Response, AppError> {
        let bytes = self
            .csv
            .into_inner()
            .map_err(|error| AppError::Internal(error.to_string()))?;
        let disposition = format!("attachment; filename=\"{filename}\"");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            bytes,
        )
            .into_response())
    }
}

/// `2026-11-30 14:05`, in China Standard Time (UTC+8, no daylight saving).
pub fn china_time(ms: i64) -> String {
    china(
        ms,
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]"),
    )
}

/// `2026-11-30`, in China Standard Time.
pub fn china_date(ms: i64) -> String {
    china(ms, time::macros::format_description!("[year]-[month]-[day]"))
}

fn china(ms: i64, format: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|at| at.to_offset(crate::clock::CHINA))
        .ok()
        .and_then(|at| at.format(format).ok())
        .unwrap_or_default()
}
