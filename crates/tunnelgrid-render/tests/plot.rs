//! The line-chart API: a PNG of the asked size, drawn with the series colours, written
//! atomically, and bad input refused with a message naming the series.

use std::path::PathBuf;
use tunnelgrid_render::plot::*;
use tunnelgrid_render::Rgb;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tunnelgrid-render-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn chart(log_y: bool) -> LineChart {
    LineChart {
        title: "Largest cluster against pressure".into(),
        x_label: "pressure (GPa)".into(),
        y_label: "largest-cluster fraction".into(),
        log_x: false,
        log_y,
        series: vec![
            Series {
                name: "10 K".into(),
                points: (0..20)
                    .map(|i| (i as f64 * 10.0, 0.01 + i as f64 * 0.05))
                    .collect(),
                y_err: Some(vec![0.005; 20]),
                style: SeriesStyle::LineMarkers,
            },
            Series {
                name: "400 K".into(),
                points: (0..20)
                    .map(|i| (i as f64 * 10.0, 0.02 + i as f64 * 0.02))
                    .collect(),
                y_err: None,
                style: SeriesStyle::Markers,
            },
        ],
    }
}

fn count_near(img: &image::RgbImage, colour: Rgb) -> usize {
    img.pixels()
        .filter(|p| Rgb(p[0], p[1], p[2]).distance2(colour) < 300)
        .count()
}

#[test]
fn a_line_chart_has_the_size_text_and_series_colours() {
    let dir = scratch("chart");
    for log_y in [false, true] {
        let path = dir.join(format!("chart-{log_y}.png"));
        write_line_chart(&chart(log_y), &path, (800, 600)).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (800, 600));
        // Both series are drawn in their legend colours, and plenty of them.
        for i in 0..2 {
            let n = count_near(&img, series_colour(i));
            assert!(n > 200, "series {i} colour on only {n} pixels");
        }
        // Text and axes are drawn in black-ish pixels (the embedded font works).
        let dark = img
            .pixels()
            .filter(|p| p[0] < 60 && p[1] < 60 && p[2] < 60)
            .count();
        assert!(dark > 500, "only {dark} dark pixels: axes/labels missing");
        // No temporary file is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
    if std::env::var_os("TUNNELGRID_KEEP_IMAGES").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn bad_charts_are_refused_with_the_series_named() {
    let dir = scratch("bad");
    let path = dir.join("bad.png");
    let mut c = chart(true);
    c.series[1].points[3].1 = -1.0;
    let e = write_line_chart(&c, &path, (800, 600))
        .unwrap_err()
        .to_string();
    assert!(e.contains("400 K") && e.contains("log y"), "{e}");
    let mut c = chart(false);
    c.series[0].y_err = Some(vec![0.1; 3]);
    let e = write_line_chart(&c, &path, (800, 600))
        .unwrap_err()
        .to_string();
    assert!(e.contains("10 K") && e.contains("y_err"), "{e}");
    let mut c = chart(false);
    c.series[0].points[0].0 = f64::NAN;
    assert!(write_line_chart(&c, &path, (800, 600)).is_err());
    let e = write_line_chart(&chart(false), &path, (10, 600))
        .unwrap_err()
        .to_string();
    assert!(e.contains("size"), "{e}");
    assert!(!path.exists(), "a refused chart must not leave a file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_single_point_chart_still_draws() {
    let dir = scratch("single");
    let path = dir.join("one.png");
    let c = LineChart {
        title: "one".into(),
        series: vec![Series {
            name: String::new(),
            points: vec![(1.0, 1.0)],
            y_err: None,
            style: SeriesStyle::Markers,
        }],
        ..Default::default()
    };
    write_line_chart(&c, &path, (320, 240)).unwrap();
    assert_eq!(
        image::open(&path).unwrap().to_rgb8().dimensions(),
        (320, 240)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
