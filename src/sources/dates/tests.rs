//! Tests of the date readers.

use super::*;

fn utc(s: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

#[test]
fn rfc3339() {
    let want = utc("2026-11-24T13:05:00Z");
    assert_eq!(parse_date("2026-11-24T14:05:00+01:00"), want);
    assert_eq!(parse_date("2026-11-24T13:05:00Z"), want);
    assert_eq!(parse_date("2026-11-24t13:05:00z"), want);
    assert_eq!(parse_date("2026-11-24 14:05:00+01:00"), want);
    assert_eq!(parse_date("2026-11-24T14:05:00+0100"), want);
    assert_eq!(parse_date("2026-11-24T08:05:00-05:00"), want);
    assert_eq!(parse_date("  2026-11-24T13:05:00Z\n"), want);
    assert_eq!(parse_date("2026-11-24T13:05Z"), want);
    assert_eq!(
        parse_date("2026-11-24T14:05:00.123456+01:00"),
        utc("2026-11-24T13:05:00.123456Z")
    );
    assert_eq!(
        parse_date("2026-11-24T13:05:00.5Z"),
        utc("2026-11-24T13:05:00.500Z")
    );
}

#[test]
fn iso_date_and_naive() {
    assert_eq!(parse_date("2026-11-24"), utc("2026-11-24T00:00:00Z"));
    assert_eq!(
        parse_date("2026-11-24T14:05:00"),
        utc("2026-11-24T14:05:00Z")
    );
    assert_eq!(parse_date("2026-11-24 14:05"), utc("2026-11-24T14:05:00Z"));
}

#[test]
fn rfc2822() {
    let want = utc("2026-11-24T13:05:00Z");
    assert_eq!(parse_date("Tue, 24 Nov 2026 14:05:00 +0100"), want);
    assert_eq!(parse_date("Tue, 24 Nov 2026 13:05:00 GMT"), want);
    assert_eq!(parse_date("Tue, 24 Nov 2026 13:05:00 UT"), want);
    assert_eq!(parse_date("24 Nov 2026 13:05:00 Z"), want);
    assert_eq!(parse_date("Tue, 24 Nov 2026 08:05:00 EST"), want);
    assert_eq!(parse_date("Tue, 24 Nov 2026 05:05:00 PST"), want);
    assert_eq!(parse_date("Tue, 24 Nov 2026 14:05:00 CET"), want);
    assert_eq!(parse_date("Tue, 24 Nov 2026 15:05:00 CEST"), want);
    assert_eq!(parse_date("Tue, 24 Nov 2026 15:05:00 MESZ"), want);
    assert_eq!(parse_date("Tue, 24 Nov 2026 14:05:00 +0100 (CET)"), want);
    assert_eq!(parse_date("Tue, 24 Nov 2026 14:05 +0100"), want);
    assert_eq!(parse_date("24 Nov 26 13:05:00 GMT"), want);
    assert_eq!(
        parse_date("Thu, 3 Dec 2026 09:00:00 -0000"),
        utc("2026-12-03T09:00:00Z")
    );
    assert_eq!(
        parse_date("Wednesday, 25 November 2026 13:05:00 GMT"),
        utc("2026-11-25T13:05:00Z")
    );
}

#[test]
fn rfc2822_german_names() {
    assert_eq!(
        parse_date("Mo, 24 Nov 2026 14:05:00 +0100"),
        utc("2026-11-24T13:05:00Z")
    );
    assert_eq!(parse_date("Di, 3 Mär 2026"), utc("2026-03-03T00:00:00Z"));
    assert_eq!(
        parse_date("Do, 01 Okt 2026 10:00:00 +0200"),
        utc("2026-10-01T08:00:00Z")
    );
    assert_eq!(
        parse_date("So, 6 Dez 2026 10:00:00 MEZ"),
        utc("2026-12-06T09:00:00Z")
    );
    assert_eq!(
        parse_date("Mi, 13 Mai 2026 10:00:00 MESZ"),
        utc("2026-05-13T08:00:00Z")
    );
}

#[test]
fn german_formats() {
    let want = utc("2026-11-24T14:05:00Z");
    assert_eq!(parse_date("24.11.2026 14:05"), want);
    assert_eq!(parse_date("24.11.2026, 14:05 Uhr"), want);
    assert_eq!(parse_date("24.11.2026 um 14:05 Uhr"), want);
    assert_eq!(parse_date("24.11.2026 14.05 Uhr"), want);
    assert_eq!(parse_date("24. November 2026 14:05"), want);
    assert_eq!(parse_date("am 24. November 2026 um 14:05 Uhr"), want);
    assert_eq!(parse_date("Dienstag, 24. November 2026, 14:05 Uhr"), want);
    assert_eq!(parse_date("24.11.2026"), utc("2026-11-24T00:00:00Z"));
    assert_eq!(parse_date("3. März 2026"), utc("2026-03-03T00:00:00Z"));
    assert_eq!(parse_date("3.3.26"), utc("2026-03-03T00:00:00Z"));
}

#[test]
fn english_formats() {
    let want = utc("2026-11-24T14:05:00Z");
    assert_eq!(parse_date("November 24, 2026 2:05 PM"), want);
    assert_eq!(parse_date("November 24, 2026 2:05pm"), want);
    assert_eq!(parse_date("Nov 24, 2026 at 2:05 p.m."), want);
    assert_eq!(
        parse_date("November 24, 2026 12:30 AM"),
        utc("2026-11-24T00:30:00Z")
    );
    assert_eq!(parse_date("Nov 24, 2026"), utc("2026-11-24T00:00:00Z"));
    assert_eq!(parse_date("24 November 2026"), utc("2026-11-24T00:00:00Z"));
    assert_eq!(
        parse_date("Tuesday, November 24th, 2026"),
        utc("2026-11-24T00:00:00Z")
    );
    assert_eq!(parse_date("Sept. 3, 2026"), utc("2026-09-03T00:00:00Z"));
}

#[test]
fn epoch_seconds() {
    assert_eq!(parse_date("1795525500"), utc("2026-11-24T13:05:00Z"));
    assert_eq!(parse_date("1795525500000"), utc("2026-11-24T13:05:00Z"));
}

#[test]
fn garbage_is_none() {
    for s in [
        "",
        "   ",
        "gestern",
        "vor 3 Stunden",
        "2026",
        "2026-13-01",
        "2026-02-30",
        "2026-11-24T25:00:00Z",
        "2026-11-24T14:05:00+99:00",
        "32.11.2026",
        "24.11.",
        "November 2026",
        "Nov 24",
        "24 Nov 2026 14:05:00 XYZT",
        "13:05 PM 24 Nov 2026",
        "Tue, 24 Nov 2026 14:05:00 +0100 +0200",
        "ä.ö.ü",
        "2026-11-24Tä",
        "😀, 24 Nov 2026",
        "99999999999999999999",
        "1.2.3.4.5",
    ] {
        assert_eq!(parse_date(s), None, "{s:?}");
    }
}

// ---- Reading against a context: eight languages, relative forms, zones ----

use chrono::NaiveDateTime;
use chrono_tz::Europe::Berlin;
use proptest::prelude::*;

/// Tuesday 24 November 2026, 16:00 in Berlin (CET, UTC+1).
const NOW: &str = "2026-11-24T15:00:00Z";

fn berlin(now: &str) -> DateContext {
    DateContext::new(utc(now).unwrap(), Berlin)
}

/// Checks every (input, expected UTC instant or "none") pair, reporting all misses at once.
fn check(cx: &DateContext, cases: &[(&str, &str)]) {
    let misses: Vec<String> = cases
        .iter()
        .filter_map(|&(input, want)| {
            let want = if want == "none" { None } else { utc(want) };
            let got = parse_date_in(input, cx);
            (got != want).then(|| format!("{input:?}: got {got:?}, want {want:?}"))
        })
        .collect();
    assert!(misses.is_empty(), "\n{}", misses.join("\n"));
}

#[test]
fn german_in_berlin() {
    check(
        &berlin(NOW),
        &[
            ("24.11.2026, 14:05 Uhr", "2026-11-24T13:05:00Z"),
            ("24.11.2026, 14.05 Uhr", "2026-11-24T13:05:00Z"),
            ("Stand: 24.11.2026 14:05 Uhr", "2026-11-24T13:05:00Z"),
            ("Di, 24. Nov. 2026 14:05", "2026-11-24T13:05:00Z"),
            ("Di 24. Nov 2026, 14:05", "2026-11-24T13:05:00Z"),
            (
                "Dienstag, 24. November 2026 um 14:05 Uhr",
                "2026-11-24T13:05:00Z",
            ),
            ("24.11.2026 um 14 Uhr", "2026-11-24T13:00:00Z"),
            ("24.11.26 14:05", "2026-11-24T13:05:00Z"),
            ("Veröffentlicht am 24.11.2026", "2026-11-23T23:00:00Z"),
            ("3. März 2026", "2026-03-02T23:00:00Z"),
            ("3. Maerz 2026", "2026-03-02T23:00:00Z"),
            ("3. MÄRZ 2026", "2026-03-02T23:00:00Z"),
            ("3. Mrz. 2026", "2026-03-02T23:00:00Z"),
            ("3. Jänner 2026", "2026-01-02T23:00:00Z"),
            ("15. August 2026, 14:05 Uhr", "2026-08-15T12:05:00Z"),
            ("24. Nov., 14:05", "2026-11-24T13:05:00Z"),
            ("Mo, 23.11. 18:00", "2026-11-23T17:00:00Z"),
            ("heute, 09:12", "2026-11-24T08:12:00Z"),
            ("Heute", "2026-11-23T23:00:00Z"),
            ("gestern, 14:30", "2026-11-23T13:30:00Z"),
            ("Gestern um 14:30 Uhr", "2026-11-23T13:30:00Z"),
            ("vorgestern 08:00", "2026-11-22T07:00:00Z"),
            ("Sonntag um 10:00", "2026-11-22T09:00:00Z"),
            ("vor 3 Stunden", "2026-11-24T12:00:00Z"),
            ("vor einer Minute", "2026-11-24T14:59:00Z"),
            ("vor 2 Tagen", "2026-11-22T15:00:00Z"),
            ("vor 1 Std. 5 Min.", "2026-11-24T13:55:00Z"),
            ("vor etwa 3 Stunden", "2026-11-24T12:00:00Z"),
            ("vor 2 Wochen", "2026-11-10T15:00:00Z"),
            ("Aktualisiert vor 5 Minuten", "2026-11-24T14:55:00Z"),
            ("gerade eben", "2026-11-24T15:00:00Z"),
            ("Di, 24 Nov 2026 14:05:00 +0100", "2026-11-24T13:05:00Z"),
            ("2026-11-24T14:05:00", "2026-11-24T13:05:00Z"),
            ("2026-11-24", "2026-11-23T23:00:00Z"),
            ("20261124T140500", "2026-11-24T13:05:00Z"),
        ],
    );
}

#[test]
fn english_in_berlin() {
    check(
        &berlin(NOW),
        &[
            ("November 24, 2026 2:05 PM", "2026-11-24T13:05:00Z"),
            ("Tue Nov 24, 2026 2:05 pm", "2026-11-24T13:05:00Z"),
            ("Nov 24, 2026 at 2:05 PM", "2026-11-24T13:05:00Z"),
            ("Nov 24, 2026 @ 2:05pm", "2026-11-24T13:05:00Z"),
            ("Posted on November 24th, 2026", "2026-11-23T23:00:00Z"),
            ("24th November 2026", "2026-11-23T23:00:00Z"),
            (
                "Tuesday, 24 November 2026 | 2:05 PM",
                "2026-11-24T13:05:00Z",
            ),
            ("11/24/2026 2:05 PM", "2026-11-24T13:05:00Z"),
            ("11-24-2026, 02:05 PM", "2026-11-24T13:05:00Z"),
            ("2026/11/24 14:05", "2026-11-24T13:05:00Z"),
            ("Nov 24", "2026-11-23T23:00:00Z"),
            ("Nov 25", "2026-11-24T23:00:00Z"),
            ("Nov 26", "2025-11-25T23:00:00Z"),
            ("Today at 9:12 AM", "2026-11-24T08:12:00Z"),
            ("Today, 09:12", "2026-11-24T08:12:00Z"),
            ("Yesterday, 10:15 PM", "2026-11-23T21:15:00Z"),
            ("Yesterday at 10:15 PM", "2026-11-23T21:15:00Z"),
            ("yesterday", "2026-11-22T23:00:00Z"),
            ("the day before yesterday", "2026-11-21T23:00:00Z"),
            ("Monday at 3:00 PM", "2026-11-23T14:00:00Z"),
            ("Sunday at 3:00 PM", "2026-11-22T14:00:00Z"),
            ("Tuesday at 3:00 PM", "2026-11-17T14:00:00Z"),
            ("3 hours ago", "2026-11-24T12:00:00Z"),
            ("an hour ago", "2026-11-24T14:00:00Z"),
            ("about 2 hours ago", "2026-11-24T13:00:00Z"),
            ("5 min. ago", "2026-11-24T14:55:00Z"),
            ("3h ago", "2026-11-24T12:00:00Z"),
            ("2 days ago", "2026-11-22T15:00:00Z"),
            ("1 year ago", "2025-11-24T15:00:00Z"),
            ("2 years, 3 months ago", "2024-08-24T14:00:00Z"),
            ("a few seconds ago", "2026-11-24T15:00:00Z"),
            ("just now", "2026-11-24T15:00:00Z"),
        ],
    );
}

#[test]
fn french_in_berlin() {
    check(
        &berlin(NOW),
        &[
            ("24 novembre 2026 à 14h05", "2026-11-24T13:05:00Z"),
            ("Publié le 24 novembre 2026 à 14h05", "2026-11-24T13:05:00Z"),
            ("Mis à jour le 24/11/2026 à 14:05", "2026-11-24T13:05:00Z"),
            ("mar. 24 nov. 2026 14:05", "2026-11-24T13:05:00Z"),
            ("mardi 24 novembre 2026, 14 h 05", "2026-11-24T13:05:00Z"),
            ("1er février 2026", "2026-01-31T23:00:00Z"),
            ("1er févr. 2026", "2026-01-31T23:00:00Z"),
            ("1 fevrier 2026", "2026-01-31T23:00:00Z"),
            ("15 août 2026 à 14h", "2026-08-15T12:00:00Z"),
            ("mardi 3 mars 2026", "2026-03-02T23:00:00Z"),
            ("3 déc. 2026", "2026-12-02T23:00:00Z"),
            ("aujourd'hui à 09:12", "2026-11-24T08:12:00Z"),
            ("Aujourd’hui à 09h12", "2026-11-24T08:12:00Z"),
            ("hier à 14h30", "2026-11-23T13:30:00Z"),
            ("avant-hier", "2026-11-21T23:00:00Z"),
            ("il y a 3 heures", "2026-11-24T12:00:00Z"),
            ("il y a une heure", "2026-11-24T14:00:00Z"),
            ("il y a 2 jours", "2026-11-22T15:00:00Z"),
            ("il y a 1 an", "2025-11-24T15:00:00Z"),
            ("il y a un an", "2025-11-24T15:00:00Z"),
            ("il y a plus de 5 minutes", "2026-11-24T14:55:00Z"),
            ("à l'instant", "2026-11-24T15:00:00Z"),
        ],
    );
}

#[test]
fn spanish_in_berlin() {
    check(
        &berlin(NOW),
        &[
            ("24 de noviembre de 2026", "2026-11-23T23:00:00Z"),
            (
                "martes, 24 de noviembre de 2026 a las 14:05",
                "2026-11-24T13:05:00Z",
            ),
            (
                "24 de noviembre de 2026, 2:05 p. m.",
                "2026-11-24T13:05:00Z",
            ),
            ("24 nov. 2026 14:05", "2026-11-24T13:05:00Z"),
            ("mar 24 nov 2026", "2026-11-23T23:00:00Z"),
            ("24/11/2026 14:05", "2026-11-24T13:05:00Z"),
            ("3 dic. 2026", "2026-12-02T23:00:00Z"),
            ("sáb, 21 nov 2026", "2026-11-20T23:00:00Z"),
            ("1º de enero de 2026", "2025-12-31T23:00:00Z"),
            ("3 de marzo de 2026", "2026-03-02T23:00:00Z"),
            ("3 mar 2026", "2026-03-02T23:00:00Z"),
            ("hoy a las 09:12", "2026-11-24T08:12:00Z"),
            ("ayer a las 14:30", "2026-11-23T13:30:00Z"),
            ("anteayer", "2026-11-21T23:00:00Z"),
            ("hace 2 días", "2026-11-22T15:00:00Z"),
            ("hace una hora", "2026-11-24T14:00:00Z"),
            ("hace 5 minutos", "2026-11-24T14:55:00Z"),
            ("hace 1 hora y 5 minutos", "2026-11-24T13:55:00Z"),
            ("hace más de 3 horas", "2026-11-24T12:00:00Z"),
            ("hace unos segundos", "2026-11-24T15:00:00Z"),
        ],
    );
}

#[test]
fn italian_in_berlin() {
    check(
        &berlin(NOW),
        &[
            ("24 novembre 2026", "2026-11-23T23:00:00Z"),
            (
                "martedì 24 novembre 2026 alle 14:05",
                "2026-11-24T13:05:00Z",
            ),
            ("24/11/2026 ore 14:05", "2026-11-24T13:05:00Z"),
            ("24 nov 2026, 14:05", "2026-11-24T13:05:00Z"),
            ("Pubblicato il 24 Nov 2026", "2026-11-23T23:00:00Z"),
            ("1° gennaio 2026", "2025-12-31T23:00:00Z"),
            ("15 ago 2026", "2026-08-14T22:00:00Z"),
            ("3 dic. 2026", "2026-12-02T23:00:00Z"),
            ("mar 3 mar 2026", "2026-03-02T23:00:00Z"),
            ("oggi alle 09:12", "2026-11-24T08:12:00Z"),
            ("ieri alle 14:30", "2026-11-23T13:30:00Z"),
            ("l'altro ieri", "2026-11-21T23:00:00Z"),
            ("3 ore fa", "2026-11-24T12:00:00Z"),
            ("un'ora fa", "2026-11-24T14:00:00Z"),
            ("2 giorni fa", "2026-11-22T15:00:00Z"),
            ("5 minuti fa", "2026-11-24T14:55:00Z"),
            ("circa 3 ore fa", "2026-11-24T12:00:00Z"),
            ("poco fa", "2026-11-24T15:00:00Z"),
        ],
    );
}

#[test]
fn dutch_in_berlin() {
    check(
        &berlin(NOW),
        &[
            ("24 november 2026 om 14:05", "2026-11-24T13:05:00Z"),
            ("di 24 nov. 2026 14:05", "2026-11-24T13:05:00Z"),
            ("dinsdag 24 november 2026 14:05 uur", "2026-11-24T13:05:00Z"),
            ("24-11-2026 14:05", "2026-11-24T13:05:00Z"),
            ("3 mei 2026", "2026-05-02T22:00:00Z"),
            ("3 mrt 2026", "2026-03-02T23:00:00Z"),
            ("3 maart 2026", "2026-03-02T23:00:00Z"),
            ("1 okt. 2026", "2026-09-30T22:00:00Z"),
            ("vandaag om 09:12", "2026-11-24T08:12:00Z"),
            ("gisteren om 14:30", "2026-11-23T13:30:00Z"),
            ("eergisteren", "2026-11-21T23:00:00Z"),
            ("3 uur geleden", "2026-11-24T12:00:00Z"),
            ("2 dagen geleden", "2026-11-22T15:00:00Z"),
            ("een minuut geleden", "2026-11-24T14:59:00Z"),
            ("ongeveer 3 uur geleden", "2026-11-24T12:00:00Z"),
            ("zojuist", "2026-11-24T15:00:00Z"),
        ],
    );
}

#[test]
fn portuguese_in_berlin() {
    check(
        &berlin(NOW),
        &[
            ("24 de novembro de 2026 às 14:05", "2026-11-24T13:05:00Z"),
            (
                "terça-feira, 24 de novembro de 2026",
                "2026-11-23T23:00:00Z",
            ),
            ("24/11/2026 14h05", "2026-11-24T13:05:00Z"),
            ("15 de agosto de 2026", "2026-08-14T22:00:00Z"),
            ("3 out. 2026", "2026-10-02T22:00:00Z"),
            ("1º de março de 2026", "2026-02-28T23:00:00Z"),
            ("1 de marco de 2026", "2026-02-28T23:00:00Z"),
            ("3 set. 2026", "2026-09-02T22:00:00Z"),
            ("hoje às 09:12", "2026-11-24T08:12:00Z"),
            ("ontem às 14:30", "2026-11-23T13:30:00Z"),
            ("anteontem", "2026-11-21T23:00:00Z"),
            ("há 3 horas", "2026-11-24T12:00:00Z"),
            ("há 2 dias", "2026-11-22T15:00:00Z"),
            ("há cerca de 1 hora", "2026-11-24T14:00:00Z"),
            ("há uma hora", "2026-11-24T14:00:00Z"),
            ("3 horas atrás", "2026-11-24T12:00:00Z"),
            ("agora mesmo", "2026-11-24T15:00:00Z"),
        ],
    );
}

#[test]
fn polish_in_berlin() {
    check(
        &berlin(NOW),
        &[
            ("24 listopada 2026", "2026-11-23T23:00:00Z"),
            ("wtorek, 24 listopada 2026, 14:05", "2026-11-24T13:05:00Z"),
            ("24 listopada 2026 r., 14:05", "2026-11-24T13:05:00Z"),
            (
                "24 listopada 2026 roku o godz. 14:05",
                "2026-11-24T13:05:00Z",
            ),
            ("24.11.2026 r.", "2026-11-23T23:00:00Z"),
            ("24.11.2026r.", "2026-11-23T23:00:00Z"),
            ("1 stycznia 2026", "2025-12-31T23:00:00Z"),
            ("3 września 2026", "2026-09-02T22:00:00Z"),
            ("3 wrzesnia 2026", "2026-09-02T22:00:00Z"),
            ("15 października 2026 o 14:05", "2026-10-15T12:05:00Z"),
            ("12 grudnia 2026", "2026-12-11T23:00:00Z"),
            ("24 lis 2026", "2026-11-23T23:00:00Z"),
            ("3 maj 2026", "2026-05-02T22:00:00Z"),
            ("Luty 3, 2026", "2026-02-02T23:00:00Z"),
            ("dzisiaj o 09:12", "2026-11-24T08:12:00Z"),
            ("dziś, 09:12", "2026-11-24T08:12:00Z"),
            ("wczoraj, 14:30", "2026-11-23T13:30:00Z"),
            ("przedwczoraj", "2026-11-21T23:00:00Z"),
            ("3 godziny temu", "2026-11-24T12:00:00Z"),
            ("godzinę temu", "2026-11-24T14:00:00Z"),
            ("5 minut temu", "2026-11-24T14:55:00Z"),
            ("2 dni temu", "2026-11-22T15:00:00Z"),
            ("ok. 3 godziny temu", "2026-11-24T12:00:00Z"),
            ("przed chwilą", "2026-11-24T15:00:00Z"),
        ],
    );
}

#[test]
fn every_month_name_in_every_language() {
    let names: [[&str; 12]; 9] = [
        [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
        [
            "gennaio",
            "febbraio",
            "marzo",
            "aprile",
            "maggio",
            "giugno",
            "luglio",
            "agosto",
            "settembre",
            "ottobre",
            "novembre",
            "dicembre",
        ],
        [
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ],
        [
            "janeiro",
            "fevereiro",
            "março",
            "abril",
            "maio",
            "junho",
            "julho",
            "agosto",
            "setembro",
            "outubro",
            "novembro",
            "dezembro",
        ],
        [
            "stycznia",
            "lutego",
            "marca",
            "kwietnia",
            "maja",
            "czerwca",
            "lipca",
            "sierpnia",
            "września",
            "października",
            "listopada",
            "grudnia",
        ],
        [
            "styczeń",
            "luty",
            "marzec",
            "kwiecień",
            "maj",
            "czerwiec",
            "lipiec",
            "sierpień",
            "wrzesień",
            "październik",
            "listopad",
            "grudzień",
        ],
    ];
    let abbreviations: [[&str; 12]; 4] = [
        [
            "Jan.", "Feb.", "Mär.", "Apr.", "Mai", "Jun.", "Jul.", "Aug.", "Sep.", "Okt.", "Nov.",
            "Dez.",
        ],
        [
            "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
            "nov.", "déc.",
        ],
        [
            "ene.", "feb.", "mar.", "abr.", "may.", "jun.", "jul.", "ago.", "sept.", "oct.",
            "nov.", "dic.",
        ],
        [
            "jan.", "fev.", "mar.", "abr.", "mai.", "jun.", "jul.", "ago.", "set.", "out.", "nov.",
            "dez.",
        ],
    ];
    for row in names.iter().chain(&abbreviations) {
        for (m, name) in row.iter().enumerate() {
            let want = NaiveDate::from_ymd_opt(2026, m as u32 + 1, 7).unwrap();
            for s in [
                format!("7 {name} 2026"),
                format!("7 {} 2026", name.to_uppercase()),
            ] {
                let got = parse_date(&s).map(|d| d.date_naive());
                assert_eq!(got, Some(want), "{s:?}");
            }
        }
    }
}

#[test]
fn across_the_spring_dst_change() {
    // Monday 30 March 2026, 12:00 in Berlin (CEST); clocks went forward on Sunday at 02:00.
    check(
        &berlin("2026-03-30T10:00:00Z"),
        &[
            ("gestern, 14:30", "2026-03-29T12:30:00Z"),
            ("vorgestern, 14:30", "2026-03-28T13:30:00Z"),
            ("vor 2 Tagen", "2026-03-28T11:00:00Z"),
            ("vor 48 Stunden", "2026-03-28T10:00:00Z"),
            // 02:30 does not exist that night: read with the offset before the change.
            ("29.03.2026 02:30", "2026-03-29T01:30:00Z"),
            ("2026-03-29T02:30:00", "2026-03-29T01:30:00Z"),
            ("Sunday at 2:30 AM", "2026-03-29T01:30:00Z"),
            // 02:30 happens twice on 25 October: the earlier one.
            ("25.10.2026 02:30", "2026-10-25T00:30:00Z"),
        ],
    );
}

#[test]
fn ambiguous_numeric_dates() {
    let mut cx = berlin(NOW);
    check(
        &cx,
        &[
            ("03/04/2026", "2026-04-02T22:00:00Z"),
            ("03.04.2026", "2026-04-02T22:00:00Z"),
            ("13/04/2026", "2026-04-12T22:00:00Z"),
            ("04/13/2026", "2026-04-12T22:00:00Z"),
            // The weekday decides: 4 March 2026 is a Wednesday, 3 April a Friday.
            ("Wed 03/04/2026", "2026-03-03T23:00:00Z"),
            ("Fri 03/04/2026", "2026-04-02T22:00:00Z"),
        ],
    );
    cx.day_order = DayOrder::MonthFirst;
    check(
        &cx,
        &[
            ("03/04/2026", "2026-03-03T23:00:00Z"),
            ("03.04.2026", "2026-04-02T22:00:00Z"),
            ("13/04/2026", "2026-04-12T22:00:00Z"),
            ("Fri 03/04/2026", "2026-04-02T22:00:00Z"),
        ],
    );
    assert_eq!(parse_date("03/04/2026"), utc("2026-04-03T00:00:00Z"));
}

#[test]
fn not_dates() {
    let cx = berlin(NOW);
    for s in [
        "Mai Thai restaurant",
        "March for peace",
        "Mars attacks",
        "May the force be with you",
        "Today is the day",
        "yesterday's news",
        "Heute ist Dienstag",
        "gestern und heute",
        "24.11.2026 gestern",
        "vor dem Haus",
        "vor",
        "ago",
        "il y a",
        "hace calor",
        "Dzień dobry",
        "3 Stunden",
        "Stunden",
        "3 hours",
        "hours ago",
        "in 3 hours",
        "vor 3 Äpfeln",
        "3 hours 5 ago",
        "vor 3 Stunden ago",
        "a few hours ago",
        "Montag",
        "Sat",
        "14:05",
        "the 24th",
        "2026",
        "November 2026",
        "Nov 24 Nov",
        "12 apples",
        "Version 2.05",
        "Chapter 3, page 12",
        "Tel. 030 1234567",
        "30.02.2026",
        "32.11.2026",
        "24.13.2026",
        "13/13/2026",
        "24/11",
        "25:00",
        "12:30 PM 14:05",
        "Mai 3 Thai",
        "1.2.3.4.5",
        "ä.ö.ü",
        "😀 gestern",
    ] {
        assert_eq!(parse_date_in(s, &cx), None, "{s:?}");
    }
}

#[test]
fn without_context_relative_and_yearless_forms_are_not_read() {
    for s in [
        "heute",
        "gestern, 14:30",
        "vor 3 Stunden",
        "3 hours ago",
        "yesterday",
        "just now",
        "Nov 24",
        "24.11.",
        "Monday at 3:00 PM",
    ] {
        assert_eq!(parse_date(s), None, "{s:?}");
    }
    // New languages are absolute, so they need no context.
    assert_eq!(
        parse_date("24 de noviembre de 2026 a las 14:05"),
        utc("2026-11-24T14:05:00Z")
    );
}

#[test]
fn future_dates_are_returned_as_written() {
    // The store clamps a future date to the time first seen; the reader does not guess.
    let cx = berlin(NOW);
    assert_eq!(
        parse_date_in("24.11.2030 14:05", &cx),
        utc("2030-11-24T13:05:00Z")
    );
}

/// Work done by the readers for one call.
fn work(s: &str, cx: &DateContext) -> u64 {
    words::WORK.with(|w| w.set(0));
    let _ = parse_date_in(s, cx);
    let _ = parse_date(s);
    words::WORK.with(|w| w.get())
}

/// Work allowed per byte of input: each token is hashed a few times.
const WORK_PER_BYTE: u64 = 20;

#[test]
fn long_input_is_refused_without_work() {
    let cx = berlin(NOW);
    let long = "vor 3 Stunden ".repeat(10_000);
    assert_eq!(parse_date_in(&long, &cx), None);
    assert_eq!(work(&long, &cx), 0);
}

/// Date-shaped text: tokens that mean something, joined loosely.
fn date_soup() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "24",
        "3",
        "2026",
        "26",
        "24.",
        "24.11.2026",
        "03/04/2026",
        "11-24-2026",
        "14:05",
        "2:05",
        "14h05",
        "14.05",
        "PM",
        "am",
        "a.",
        "m.",
        "Uhr",
        "h",
        "um",
        "de",
        "il",
        "y",
        "a",
        "Nov.",
        "März",
        "mar",
        "mai",
        "Mai",
        "ago",
        "an",
        "vor",
        "hace",
        "temu",
        "fa",
        "heures",
        "Stunden",
        "hours",
        "3h",
        "ein",
        "few",
        "gestern",
        "heute",
        "hier",
        "Monday",
        "Di",
        "+0100",
        "CET",
        "r.",
        "1er",
        "1st",
        "(x)",
        ",",
        "|",
        "-",
        "é",
        "😀",
        "'",
    ]);
    prop::collection::vec(
        (token, prop::sample::select(vec![" ", ", ", "", " | "])),
        0..40,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(t, sep)| format!("{t}{sep}"))
            .collect()
    })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics_and_work_is_linear(s in "\\PC{0,300}") {
        let cx = berlin(NOW);
        prop_assert!(work(&s, &cx) <= WORK_PER_BYTE * (s.len() as u64 + 1));
    }

    #[test]
    fn date_shaped_text_never_panics_and_work_is_linear(s in date_soup()) {
        let cx = berlin(NOW);
        prop_assert!(work(&s, &cx) <= WORK_PER_BYTE * (s.len() as u64 + 1));
    }

    #[test]
    fn written_dates_read_back(
        y in 1990i32..2060,
        m in 1u32..=12,
        d in 1u32..=28,
        hh in 0u32..24,
        mm in 0u32..60,
        lang in 0usize..8,
    ) {
        let de = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
            "September", "Oktober", "November", "Dezember"];
        let en = ["January", "Feb", "March", "Apr", "May", "June", "July", "Aug.", "Sept.",
            "October", "Nov", "December"];
        let fr = ["janvier", "févr.", "mars", "avril", "mai", "juin", "juil.", "août", "sept.",
            "octobre", "nov.", "décembre"];
        let es = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
            "septiembre", "octubre", "noviembre", "dic."];
        let it = ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
            "agosto", "settembre", "ottobre", "novembre", "dicembre"];
        let nl = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
            "september", "oktober", "november", "december"];
        let pt = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
            "setembro", "out.", "novembro", "dezembro"];
        let pl = ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca",
            "sierpnia", "września", "października", "listopada", "grudnia"];
        let i = m as usize - 1;
        let (h12, ampm) = (if hh % 12 == 0 { 12 } else { hh % 12 }, if hh < 12 { "AM" } else { "PM" });
        let s = match lang {
            0 => format!("{d}. {} {y}, {hh:02}:{mm:02} Uhr", de[i]),
            1 => format!("{} {d}, {y} at {h12}:{mm:02} {ampm}", en[i]),
            2 => format!("le {d} {} {y} à {hh}h{mm:02}", fr[i]),
            3 => format!("{d} de {} de {y} a las {hh:02}:{mm:02}", es[i]),
            4 => format!("{d} {} {y} alle {hh:02}:{mm:02}", it[i]),
            5 => format!("{d} {} {y} om {hh:02}:{mm:02}", nl[i]),
            6 => format!("{d} de {} de {y} às {hh:02}:{mm:02}", pt[i]),
            _ => format!("{d} {} {y} r., {hh:02}:{mm:02}", pl[i]),
        };
        let naive = NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(hh, mm, 0).unwrap();
        let want = Berlin.from_local_datetime(&naive).earliest();
        prop_assume!(want.is_some());
        let cx = berlin(NOW);
        prop_assert_eq!(parse_date_in(&s, &cx), want.map(|t| t.with_timezone(&Utc)), "{}", s);
        prop_assert_eq!(parse_date(&s), Some(naive.and_utc()), "{}", s);
    }

    #[test]
    fn hours_and_days_ago_count_back(n in 1u32..500, unit in 0usize..4) {
        let cx = berlin(NOW);
        let now = cx.now;
        let (s, want) = match unit {
            0 => (format!("vor {n} Stunden"), now - TimeDelta::hours(n.into())),
            1 => (format!("{n} minutes ago"), now - TimeDelta::minutes(n.into())),
            2 => (format!("hace {n} segundos"), now - TimeDelta::seconds(n.into())),
            _ => {
                let local: NaiveDateTime = now.with_timezone(&Berlin).naive_local()
                    - TimeDelta::days(n.into());
                let want = Berlin.from_local_datetime(&local).earliest().unwrap();
                (format!("{n} dni temu"), want.with_timezone(&Utc))
            }
        };
        prop_assert_eq!(parse_date_in(&s, &cx), Some(want), "{}", s);
    }
}

/// The RFC 2822 shortcut reads what the word reader reads, with or
/// without a context, and leaves the rest to it.
#[test]
fn rfc2822_shortcut_reads_the_common_feed_date() {
    assert_eq!(
        parse_rfc2822("Thu, 23 Oct 2025 17:29:00 +0000"),
        utc("2025-10-23T17:29:00Z")
    );
    assert_eq!(
        parse_rfc2822("1 Mar 2026 00:00:59 GMT"),
        utc("2026-03-01T00:00:59Z")
    );
    assert_eq!(
        parse_rfc2822("Tue, 24 Nov 2026 14:05:00 +0100"),
        utc("2026-11-24T13:05:00Z")
    );
    // Left to the word reader.
    for s in [
        "Thu, 23 Oct 2025 17:29 +0000",
        "Do, 23 Okt 2025 17:29:00 +0000",
        "Thu, 23 Oct 25 17:29:00 +0000",
        "Thu, 23 Oct 2025 17:29:00 MESZ",
        "Thu, 31 Feb 2025 17:29:00 +0000",
        "Thu, 23 Oct 2025 24:00:00 +0000",
        "Thu,  23 Oct 2025 17:29:00 +0000",
    ] {
        assert_eq!(parse_rfc2822(s), None, "{s}");
    }
}

proptest! {
    #[test]
    fn rfc2822_shortcut_agrees_with_the_word_reader(
        weekday in prop::option::of(prop::sample::select(vec!["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"])),
        day in 0u32..33,
        zero in any::<bool>(),
        month in prop::sample::select(vec!["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Okt", "mar"]),
        year in 1890u32..2200,
        (h, m, sec) in (0u32..25, 0u32..61, 0u32..61),
        zone in prop::sample::select(vec!["+0000", "-0000", "+0100", "-0500", "+0530", "+2359", "-2400", "+0160", "GMT", "UT", "UTC", "Z", "EST", "+01:00", "+01"]),
    ) {
        let day = if zero { format!("{day:02}") } else { day.to_string() };
        let s = format!(
            "{}{day} {month} {year} {h:02}:{m:02}:{sec:02} {zone}",
            weekday.map(|w| format!("{w} ")).unwrap_or_default()
        );
        if let Some(fast) = parse_rfc2822(&s) {
            prop_assert_eq!(Some(fast), absolute::parse_words(&s, None), "{}", s);
            let cx = DateContext::new(Utc::now(), chrono_tz::Europe::Berlin);
            prop_assert_eq!(Some(fast), absolute::parse_words(&s, Some(&cx)), "{}", s);
        }
    }
}
