//! Charts for staff screens, drawn as SVG so they print as sharply as they show: a bar for each name (members by
//! city, by organisation, by township) and a bar for each month (流向 over a year). Each bar carries its name and
//! count (`data-name`, `data-count`) for the tests; the figure's label says what it shows for screen readers.

use guihai_core::flow::{MonthFlow, Tally};
use leptos::prelude::*;

/// Width of the drawing; it scales to the screen's.
const WIDTH: f64 = 320.0;
/// One name's row: its label above its bar.
const ROW: f64 = 34.0;
const BAR: f64 = 14.0;
/// Room right of the longest bar for its count.
const COUNT_ROOM: f64 = 44.0;

fn scale(count: u32, most: u32, room: f64) -> f64 {
    if most == 0 {
        0.0
    } else {
        f64::from(count) / f64::from(most) * room
    }
}

/// Horizontal bars, one for each tally, in the order given.
#[component]
pub fn BarChart(tallies: Vec<Tally>, label: String, testid: &'static str) -> impl IntoView {
    let most = tallies.iter().map(|t| t.members).max().unwrap_or(0);
    let height = ROW * tallies.len().max(1) as f64;
    let bars = tallies
        .into_iter()
        .enumerate()
        .map(|(n, tally)| {
            let top = ROW * n as f64;
            let width = scale(tally.members, most, WIDTH - COUNT_ROOM).max(1.0);
            let shown = tally.name.clone();
            view! {
                <g data-testid=format!("{testid}-bar") data-name=tally.name data-count=tally.members>
                    <text x="0" y=top + 12.0 class="chart-label">{shown}</text>
                    <rect x="0" y=top + 16.0 width=width height=BAR rx="2" class="chart-bar" />
                    <text x=width + 6.0 y=top + 28.0 class="chart-count">{tally.members}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" data-testid=testid role="img" aria-label=label viewBox=format!("0 0 {WIDTH} {height}")>
            {bars}
        </svg>
    }
}

/// Month height of the tallest bar, and room below for the month's name and above for its count.
const MONTH_BARS: f64 = 100.0;
const MONTH_TOP: f64 = 16.0;
const MONTH_FOOT: f64 = 18.0;

/// Vertical bars: members away at the end of each month, oldest first, each under its month's number.
#[component]
pub fn MonthChart(months: Vec<MonthFlow>, label: String) -> impl IntoView {
    let most = months.iter().map(|m| m.away).max().unwrap_or(0);
    let slot = WIDTH / months.len().max(1) as f64;
    let bars = months
        .into_iter()
        .enumerate()
        .map(|(n, month)| {
            let tall = scale(month.away, most, MONTH_BARS);
            let x = slot * n as f64;
            let middle = x + slot / 2.0;
            view! {
                <g data-testid="flow-month" data-month=month.month.clone() data-count=month.away>
                    <rect x=x + slot * 0.2 y=MONTH_TOP + MONTH_BARS - tall width=slot * 0.6 height=tall.max(1.0) rx="2"
                        class="chart-bar" />
                    <text x=middle y=MONTH_TOP + MONTH_BARS - tall - 4.0 text-anchor="middle" class="chart-count">
                        {month.away}
                    </text>
                    <text x=middle y=MONTH_TOP + MONTH_BARS + 14.0 text-anchor="middle" class="chart-label">
                        {month_number(&month.month)}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" data-testid="flow-months" role="img" aria-label=label
            viewBox=format!("0 0 {WIDTH} {}", MONTH_TOP + MONTH_BARS + MONTH_FOOT)>
            {bars}
        </svg>
    }
}

/// `2026-01` as `1`.
fn month_number(month: &str) -> String {
    month
        .rsplit('-')
        .next()
        .map(|m| m.trim_start_matches('0').to_owned())
        .unwrap_or_default()
}
