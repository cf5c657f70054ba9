//! The settings file: round trips, atomic writes, broken files kept.

use super::*;

fn file_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("pivotal-tui").join(FILE_NAME)
}

#[test]
fn a_missing_file_is_the_defaults_and_is_created_on_first_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_in(&dir);
    let mut file = SettingsFile::load(&path);
    assert_eq!(file.settings(), &Settings::default());
    assert!(file.problem().is_none());
    assert!(!path.exists(), "nothing is written by reading");

    let view = ViewSettings::default().with(
        Sort {
            column: SortColumn::Plan,
            reversed: true,
        },
        true,
    );
    file.save_view(&view).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("# How often the list syncs"),
        "documented:\n{text}"
    );
    let again = SettingsFile::load(&path);
    assert_eq!(again.settings().view, view);
    assert_eq!(again.settings().view.sort().column, SortColumn::Plan);
    assert_eq!(again.settings().api_url, None, "only what was set is set");
}

#[test]
fn every_setting_round_trips_and_comments_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_in(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "# mine, keep me\ntheme = \"mono\"\n").unwrap();
    let mut file = SettingsFile::load(&path);
    for (key, value) in [
        ("api_url", "https://eu.api.pivotal.app"),
        ("share_url_base", "https://eu.pivotal.app"),
        ("refresh_interval_secs", "120"),
        ("theme", "light"),
        ("view.sort", "updated"),
        ("view.sort_reversed", "true"),
        ("view.mine", "true"),
        ("view.hidden_columns", "source, plan"),
        ("keys.archive", "A"),
    ] {
        file.set(key, value)
            .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# mine, keep me"), "{text}");
    let settings = SettingsFile::load(&path).settings().clone();
    assert_eq!(
        settings.api_url.as_deref(),
        Some("https://eu.api.pivotal.app")
    );
    assert_eq!(
        settings.share_url_base.as_deref(),
        Some("https://eu.pivotal.app")
    );
    assert_eq!(settings.refresh_interval_secs, Some(120));
    assert_eq!(settings.theme, ThemeChoice::Light);
    assert_eq!(settings.view.sort().column, SortColumn::Updated);
    assert!(settings.view.sort_reversed && settings.view.mine);
    assert_eq!(settings.view.hidden_columns, ["source", "plan"]);
    assert_eq!(settings.keys["archive"], "A");
}

#[test]
fn a_value_that_does_not_fit_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_in(&dir);
    let mut file = SettingsFile::load(&path);
    assert!(matches!(
        file.set("theme", "neon"),
        Err(SettingsError::Parse { .. })
    ));
    assert!(matches!(
        file.set("refresh_interval_secs", "1"),
        Err(SettingsError::Invalid { .. })
    ));
    for huge in ["86401", "9223372036854775807"] {
        let err = file.set("refresh_interval_secs", huge).unwrap_err();
        assert!(
            err.to_string().contains("refresh_interval_secs: ")
                && err.to_string().contains("10 to 86400"),
            "{huge}: {err}"
        );
    }
    assert!(matches!(
        file.set("view.hidden_columns", "name"),
        Err(SettingsError::Invalid { .. })
    ));
    assert!(matches!(
        file.set("colour", "red"),
        Err(SettingsError::UnknownKey(_))
    ));
    assert!(!path.exists());
}

#[test]
fn a_broken_file_is_reported_with_its_line_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_in(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let broken = "theme = \"dark\"\n\n[view]\nsort = \"name\"\nmine = maybe\n";
    std::fs::write(&path, broken).unwrap();
    let mut file = SettingsFile::load(&path);
    let problem = file.problem().expect("reported").to_owned();
    assert!(problem.starts_with("config.toml line 5:"), "{problem}");
    assert_eq!(file.settings(), &Settings::default(), "defaults meanwhile");
    let err = file.save_view(&ViewSettings {
        mine: true,
        ..ViewSettings::default()
    });
    assert!(matches!(err, Err(SettingsError::Broken(_))), "{err:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken, "untouched");
}

#[test]
fn a_refresh_interval_out_of_range_in_the_file_is_reported_and_the_defaults_used() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_in(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "refresh_interval_secs = 9223372036854775807\n").unwrap();
    let file = SettingsFile::load(&path);
    let problem = file.problem().expect("reported");
    assert!(
        problem.starts_with("config.toml: refresh_interval_secs: 9223372036854775807 is too long"),
        "{problem}"
    );
    assert_eq!(
        file.settings().refresh_interval_secs,
        None,
        "defaults meanwhile"
    );
    let longest = Settings::parse("refresh_interval_secs = 86400\n").unwrap();
    assert_eq!(longest.refresh_interval_secs, Some(MAX_REFRESH_SECS));
}

#[test]
fn an_unknown_key_in_the_file_names_its_line() {
    let err = Settings::parse("theme = \"dark\"\ncolour = \"red\"\n").unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("config.toml line 2:"), "{message}");
}

#[test]
fn a_value_of_the_wrong_kind_is_named_with_the_values_accepted() {
    let message = |text: &str| Settings::parse(text).unwrap_err().to_string();
    assert_eq!(
        message("theme = \"neon\"\n"),
        "config.toml line 1: theme = \"neon\" is not one of auto, dark, light, mono"
    );
    assert_eq!(
        message("theme = \"dark\"\n\n[view]\nsort = \"name\"\nmine = \"yes\"\n"),
        "config.toml line 5: view.mine = \"yes\" is not a boolean"
    );
    assert_eq!(
        message("[view]\nsort = 12\n"),
        "config.toml line 2: view.sort = 12 is not a string"
    );
    let unknown = message("theme = \"dark\"\ncolour = \"red\"\n");
    assert!(
        unknown
            .starts_with("config.toml line 2: `colour` is not a setting here; use one of api_url,"),
        "{unknown}"
    );
    let mut file = SettingsFile::load(tempfile::tempdir().unwrap().path().join("config.toml"));
    let refused = file.set("theme", "neon").unwrap_err().to_string();
    assert!(
        refused.ends_with("theme = \"neon\" is not one of auto, dark, light, mono"),
        "{refused}"
    );
}

#[test]
fn writes_replace_the_file_whole() {
    // The atomic writer leaves no temporary files behind and replaces the
    // content entirely.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.toml");
    write_atomically(&path, b"a = 1\n").unwrap();
    write_atomically(&path, b"b = 2\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "b = 2\n");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["x.toml"]);
}

#[test]
fn the_documented_example_is_a_valid_file() {
    let settings = Settings::parse(EXAMPLE).expect("the example parses");
    assert_eq!(settings.refresh_interval_secs, Some(60));
    assert_eq!(settings.theme, ThemeChoice::Auto);
}

#[test]
fn ascii_mouse_and_screen_reader_are_settings_with_the_documented_defaults() {
    let defaults = Settings::default();
    assert!(defaults.mouse(), "the mouse is on unless turned off");
    assert!(!defaults.ascii && !defaults.screen_reader);
    let example = Settings::parse(EXAMPLE).expect("the example parses");
    assert!(example.mouse() && !example.ascii && !example.screen_reader);

    let dir = tempfile::tempdir().unwrap();
    let mut file = SettingsFile::load(file_in(&dir));
    file.set("mouse", "false").unwrap();
    file.set("ascii", "true").unwrap();
    file.set("screen_reader", "true").unwrap();
    let read = SettingsFile::load(file_in(&dir));
    let settings = read.settings();
    assert!(!settings.mouse() && settings.ascii && settings.screen_reader);
    assert!(file.set("mouse", "sometimes").is_err());
}
