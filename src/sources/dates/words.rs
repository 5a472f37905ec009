//! The vocabulary of written dates in German, English, French, Spanish,
//! Italian, Dutch, Portuguese and Polish: month and weekday names, the small
//! words people put around them, relative-time units and markers, and the
//! tokenizer that folds case and diacritics so `März`, `MÄRZ` and `Marz` meet.
//!
//! Every table holds folded spellings (lower case, no diacritics, `ß` as
//! `ss`); a word is looked up after [`fold`], with trailing dots removed.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

/// Units of "N units ago".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// Month spellings: full names, abbreviations, Polish genitives.
/// `mar` is missing on purpose: it is also Tuesday in French, Spanish and Italian.
const MONTHS: &[(u32, &str)] = &[
    (
        1,
        "jan january januar janner jaenner janv janvier enero ene",
    ),
    (1, "gennaio gen januari janeiro styczen stycznia sty"),
    (2, "feb febr february februar fevr fev fevrier febrero"),
    (2, "febbraio februari fevereiro luty lutego lut"),
    (
        3,
        "march marz maerz mrz mars marzo maart mrt marco marzec marca",
    ),
    (
        4,
        "apr april avril avr abril abr aprile kwiecien kwietnia kwi",
    ),
    (5, "may mai mayo maggio mag mei maio maj maja"),
    (
        6,
        "jun june juni juin junio giugno giu junho czerwiec czerwca cze",
    ),
    (
        7,
        "jul july juli juillet juil julio luglio lug julho lipiec lipca lip",
    ),
    (
        8,
        "aug august aout agosto ago augustus sierpien sierpnia sie",
    ),
    (
        9,
        "sep sept september septembre septiembre setiembre set settembre",
    ),
    (9, "setembro wrzesien wrzesnia wrz"),
    (
        10,
        "oct october okt oktober octobre octubre ott ottobre out outubro",
    ),
    (10, "pazdziernik pazdziernika paz"),
    (
        11,
        "nov november novembre noviembre novembro listopad listopada lis",
    ),
    (
        12,
        "dec december dez dezember decembre dic diciembre dicembre dezembro",
    ),
    (12, "grudzien grudnia gru"),
];

/// Weekday spellings, Monday = 0.
const WEEKDAYS: &[(u32, &str)] = &[
    (0, "mon monday montag mo lundi lun lunes lunedi maandag ma"),
    (0, "segunda segunda-feira seg poniedzialek pon pn"),
    (
        1,
        "tue tues tuesday dienstag di mardi martes martedi dinsdag",
    ),
    (1, "terca terca-feira ter wtorek wt"),
    (
        2,
        "wed wednesday mittwoch mi mercredi mer miercoles mie mercoledi",
    ),
    (2, "woensdag wo quarta quarta-feira qua sroda sr"),
    (
        3,
        "thu thur thurs thursday donnerstag do jeudi jeu jueves jue giovedi gio",
    ),
    (3, "donderdag quinta quinta-feira qui czwartek czw"),
    (
        4,
        "fri friday freitag fr vendredi ven viernes vie venerdi vrijdag vr",
    ),
    (4, "sexta sexta-feira sex piatek pt"),
    (
        5,
        "sat saturday samstag sonnabend sa samedi sam sabado sab sabato",
    ),
    (5, "zaterdag za sobota sob"),
    (
        6,
        "sun sunday sonntag so dimanche dim domingo dom domenica zondag zo",
    ),
    (6, "niedziela niedz ndz nd"),
];

/// Small words around dates and times that carry no value of their own
/// ("on", "at", "of", "o'clock" in the eight languages); `am` is handled apart.
const CONNECTORS: &[(u32, &str)] = &[
    (
        0,
        "- at the of on um den der vom uhr le du a de del el la las",
    ),
    (
        0,
        "di il alle ore om op uur em as o r roku godz godzina dnia feira h hs",
    ),
];

/// Labels sites print before a date ("Stand:", "Posted", "Publié le").
const LABELS: &[(u32, &str)] = &[
    (0, "posted published updated modified created last date"),
    (
        0,
        "zuletzt veroffentlicht aktualisiert erstellt geandert stand datum",
    ),
    (
        0,
        "publie publiee modifie fecha publicado publicada actualizado",
    ),
    (
        0,
        "pubblicato pubblicata aggiornato data gepubliceerd geplaatst bijgewerkt",
    ),
    (0, "atualizado opublikowano zaktualizowano dodano"),
];

/// Today (0), yesterday (1) and the day before yesterday (2).
const DAYS_BACK: &[(u32, &str)] = &[
    (
        0,
        "heute today aujourd'hui hoy oggi vandaag hoje dzisiaj dzis",
    ),
    (1, "gestern yesterday hier ayer ieri gisteren ontem wczoraj"),
    (
        2,
        "vorgestern avant-hier anteayer antier altroieri l'altroieri",
    ),
    (2, "eergisteren anteontem przedwczoraj"),
];

/// The same written as several words.
pub(super) const DAYS_BACK_PHRASES: &[(&[&str], u32)] = &[
    (&["day", "before", "yesterday"], 2),
    (&["avant", "hier"], 2),
    (&["l'altro", "ieri"], 2),
];

const UNITS: &[(Unit, &str)] = &[
    (
        Unit::Second,
        "s sec secs second seconds sek sekunde sekunden seconde",
    ),
    (
        Unit::Second,
        "secondes seg segundo segundos secondo secondi seconden",
    ),
    (Unit::Second, "sekunda sekundy sekund"),
    (
        Unit::Minute,
        "m min mins minute minutes minuten minuto minutos minuti",
    ),
    (Unit::Minute, "minuut minuta minuty minut"),
    (
        Unit::Hour,
        "h hr hrs hour hours std stunde stunden heure heures hora",
    ),
    (
        Unit::Hour,
        "horas ora ore uur u godz godzina godzine godziny godzin",
    ),
    (
        Unit::Day,
        "d day days tag tage tagen tg jour jours dia dias giorno giorni",
    ),
    (Unit::Day, "dag dagen dzien dni"),
    (
        Unit::Week,
        "w wk wks week weeks woche wochen semaine semaines semana",
    ),
    (
        Unit::Week,
        "semanas settimana settimane weken tydzien tygodnie tygodni",
    ),
    (
        Unit::Month,
        "mo mos month months monat monate monaten mois mes meses mese",
    ),
    (Unit::Month, "mesi maand maanden miesiac miesiace miesiecy"),
    (
        Unit::Year,
        "y yr yrs year years jahr jahre jahren ans annee annees ano anos",
    ),
    (Unit::Year, "anno anni jaar jaren rok lata lat"),
];

/// Singular unit forms that mean "one" without a number (Polish `godzinę temu`).
const IMPLICIT_ONE: &[(u32, &str)] = &[(0, "minute sekunde godzine dzien tydzien miesiac rok")];

/// Words for "one": `an hour`, `vor einer Minute`, `il y a une heure`.
const ONE: &[(u32, &str)] = &[
    (
        0,
        "a an one ein eine einer einem einen un une uno una een um uma",
    ),
    (0, "jeden jedna jedno"),
];

/// Words for "a few", read only with seconds: `a few seconds ago` is now.
const FEW: &[(u32, &str)] = &[
    (0, "few paar wenigen wenige quelques unos unas pochi alcuni"),
    (0, "enkele alguns algumas kilka"),
];

/// Markers before the amount (`vor`, `hace`, `há`) and after it (`ago`, `fa`).
const AGO_BEFORE: &[(u32, &str)] = &[(0, "vor hace ha faz")];
const AGO_AFTER: &[(u32, &str)] = &[(0, "ago fa geleden temu atras")];

/// Hedges and joiners inside "N units ago": `about`, `etwa`, `plus de`, `and`.
const AGO_FILLERS: &[(u32, &str)] = &[
    (
        0,
        "about around over almost nearly less than more just only and",
    ),
    (
        0,
        "etwa ca circa rund knapp fast uber ungefahr mehr als und",
    ),
    (
        0,
        "environ presque plus de pres et cerca alrededor mas casi y",
    ),
    (0, "quasi e ongeveer bijna ruim meer dan en mais quase"),
    (0, "ok okolo prawie ponad niemal i"),
];

/// Whole phrases meaning "now", as folded tokens joined by one space.
const NOW_PHRASES: &[&str] = &[
    "now",
    "just now",
    "right now",
    "moments ago",
    "a moment ago",
    "gerade eben",
    "soeben",
    "gerade",
    "jetzt",
    "a l instant",
    "maintenant",
    "ahora",
    "ahora mismo",
    "justo ahora",
    "hace un momento",
    "adesso",
    "proprio ora",
    "poco fa",
    "ora",
    "zojuist",
    "zonet",
    "nu",
    "agora",
    "agora mesmo",
    "przed chwila",
    "teraz",
    "w tej chwili",
];

#[cfg(test)]
thread_local! {
    /// Steps taken by the readers on this thread, so tests can check linear time.
    pub(super) static WORK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts `n` steps of work (tests only; free otherwise).
#[inline]
pub(super) fn tick(n: usize) {
    #[cfg(test)]
    WORK.with(|w| w.set(w.get() + n as u64));
    let _ = n;
}

/// Flags of the word lists that only say yes or no.
const CONNECTOR: u16 = 1;
const LABEL: u16 = 1 << 1;
const IMPLICIT: u16 = 1 << 2;
const ONE_WORD: u16 = 1 << 3;
const FEW_WORD: u16 = 1 << 4;
const BEFORE: u16 = 1 << 5;
const AFTER: u16 = 1 << 6;
const FILLER: u16 = 1 << 7;

/// Everything a folded word can mean (`mai` is a month, `a` is "one" and "at").
#[derive(Clone, Copy, Default)]
pub(super) struct Roles {
    pub(super) month: Option<u32>,
    /// Monday = 0.
    pub(super) weekday: Option<u32>,
    /// Today (0), yesterday (1), the day before (2).
    pub(super) days_back: Option<u32>,
    pub(super) unit: Option<Unit>,
    flags: u16,
}

impl Roles {
    pub(super) fn connector(&self) -> bool {
        self.flags & CONNECTOR != 0
    }
    pub(super) fn label(&self) -> bool {
        self.flags & LABEL != 0
    }
    /// A unit that means one on its own (Polish `godzinę`).
    pub(super) fn implicit_one(&self) -> bool {
        self.flags & IMPLICIT != 0
    }
    pub(super) fn one(&self) -> bool {
        self.flags & ONE_WORD != 0
    }
    pub(super) fn few(&self) -> bool {
        self.flags & FEW_WORD != 0
    }
    pub(super) fn ago_before(&self) -> bool {
        self.flags & BEFORE != 0
    }
    pub(super) fn ago_after(&self) -> bool {
        self.flags & AFTER != 0
    }
    pub(super) fn ago_filler(&self) -> bool {
        self.flags & FILLER != 0
    }
}

/// FNV-1a: the keys are a few hundred short fixed words, and lookups never
/// insert, so a simple hash is enough and much cheaper than SipHash.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type Vocabulary = HashMap<&'static str, Roles, BuildHasherDefault<Fnv>>;

/// All tables in one map, so a word costs one lookup however many languages there are.
static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| {
    let mut map = Vocabulary::default();
    let mut add = |table: &[(u32, &'static str)], set: &dyn Fn(&mut Roles, u32)| {
        for (value, words) in table {
            for w in words.split_whitespace() {
                set(map.entry(w).or_default(), *value);
            }
        }
    };
    add(MONTHS, &|r, v| r.month = Some(v));
    add(WEEKDAYS, &|r, v| r.weekday = Some(v));
    add(DAYS_BACK, &|r, v| r.days_back = Some(v));
    for (flag, table) in [
        (CONNECTOR, CONNECTORS),
        (LABEL, LABELS),
        (IMPLICIT, IMPLICIT_ONE),
        (ONE_WORD, ONE),
        (FEW_WORD, FEW),
        (BEFORE, AGO_BEFORE),
        (AFTER, AGO_AFTER),
        (FILLER, AGO_FILLERS),
    ] {
        add(table, &move |r, _| r.flags |= flag);
    }
    for (unit, words) in UNITS {
        for w in words.split_whitespace() {
            map.entry(w).or_default().unit = Some(*unit);
        }
    }
    map
});

/// What a folded word (trailing dots removed) can mean; nothing for unknown words.
pub(super) fn roles(w: &str) -> Roles {
    tick(w.len() + 1);
    VOCABULARY.get(w).copied().unwrap_or_default()
}

pub(super) fn is_now_phrase(joined: &str) -> bool {
    tick(joined.len() + 1);
    NOW_PHRASES.contains(&joined)
}

/// Lower case without diacritics: `Ä` → `a`, `ł` → `l`, `ß` → `ss`.
fn fold(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    for c in c.to_lowercase() {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ą' => out.push('a'),
            'ç' | 'ć' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' | 'ę' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' | 'ń' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ł' => out.push('l'),
            'ś' => out.push('s'),
            'ź' | 'ż' => out.push('z'),
            'ß' => out.push_str("ss"),
            '’' | '‘' | '`' | '´' => out.push('\''),
            _ => out.push(c),
        }
    }
}

/// Characters that only separate parts of a date.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | '|' | '@' | '·' | '•' | '–' | '—')
}

/// Splits a date into folded tokens. `(CET)`-style comments are dropped;
/// a label's colon (`Stand:`) is removed.
pub(super) fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0u32;
    for c in s.chars() {
        tick(1);
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            _ if is_separator(c) => push_token(&mut out, &mut cur),
            _ => fold(c, &mut cur),
        }
    }
    push_token(&mut out, &mut cur);
    out
}

fn push_token(out: &mut Vec<String>, cur: &mut String) {
    if cur.ends_with(':') && !cur.starts_with(|c: char| c.is_ascii_digit()) {
        cur.pop();
    }
    if !cur.is_empty() {
        out.push(std::mem::take(cur));
    }
}
