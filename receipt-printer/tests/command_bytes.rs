//! Exact command bytes from the Epson ESC/POS command reference, written out
//! as literals so that the encoder and the test printer (which share no
//! code with these arrays) cannot agree on a mistake.

use receipt_printer::commands::{self, Justify, QrErrorCorrection};
use receipt_printer::status::{
    PrinterStatus, REQUEST_OFFLINE_CAUSE, REQUEST_PAPER_SENSOR, REQUEST_PRINTER,
};
use receipt_printer::test_printer::Condition;
use receipt_printer::{
    Block, CodePage, CutMode, Document, DrawerPin, PaperState, PrinterProfile, encode_document,
    encode_drawer_kick,
};

fn profile(name: &str) -> PrinterProfile {
    PrinterProfile::by_name(name).expect("built-in profile")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn drawer_kick_is_esc_p_m_t1_t2_five_bytes() {
    // ESC p m t1 t2: m = 0 (pin 2), t1 = 25 (50 ms), t2 = 250 (500 ms)
    let mut p = profile("epson-tm-t20");
    assert_eq!(encode_drawer_kick(&p), [0x1B, 0x70, 0x00, 0x19, 0xFA]);
    p.drawer_pin = DrawerPin::Pin5;
    assert_eq!(encode_drawer_kick(&p), [0x1B, 0x70, 0x01, 0x19, 0xFA]);
    assert_eq!(
        commands::drawer_kick(false, 25, 250),
        [0x1B, 0x70, 0x00, 0x19, 0xFA]
    );
}

#[test]
fn cut_is_gs_v_function_b() {
    let doc = Document {
        blocks: vec![Block::Cut],
    };
    let mut p = profile("epson-tm-t20");
    assert_eq!(p.cut, CutMode::Partial);
    // GS V 66 0: feed to the cutter, partial cut
    assert!(contains(
        &encode_document(&doc, &p).expect("encodes"),
        &[0x1D, 0x56, 0x42, 0x00]
    ));
    p.cut = CutMode::Full;
    // GS V 65 0: feed to the cutter, full cut
    assert!(contains(
        &encode_document(&doc, &p).expect("encodes"),
        &[0x1D, 0x56, 0x41, 0x00]
    ));
    p.cut = CutMode::None;
    let bytes = encode_document(&doc, &p).expect("encodes");
    // ESC d 4: feed past the tear bar, no GS V at all
    assert!(contains(&bytes, &[0x1B, 0x64, 0x04]));
    assert!(!contains(&bytes, &[0x1D, 0x56]));
}

#[test]
fn code_page_is_esc_t_n_with_the_profile_number() {
    assert_eq!(commands::select_code_page(16), [0x1B, 0x74, 0x10]);
    let doc = Document {
        blocks: vec![Block::Line {
            text: "Café – €5".into(),
            style: Default::default(),
        }],
    };
    let bytes = encode_document(&doc, &profile("epson-tm-t20")).expect("encodes");
    // ESC @, ESC t 0 (PC437 default), "Caf", é = 0x82 in PC437, " ",
    // ESC t 16 (WPC1252) for the en dash 0x96, " ", € = 0x80, "5", LF
    let expected: &[u8] = &[
        0x1B, 0x40, 0x1B, 0x74, 0x00, b'C', b'a', b'f', 0x82, b' ', 0x1B, 0x74, 0x10, 0x96, b' ',
        0x80, b'5', 0x0A,
    ];
    assert_eq!(bytes, expected);
}

#[test]
fn hyphen_is_never_the_soft_hyphen() {
    // escpos 0.20.1 sent '-' as 0xF0 (soft hyphen) under PC850/PC858/WPC1252
    for (page, n) in [
        (CodePage::Pc850, 2u8),
        (CodePage::Pc858, 19),
        (CodePage::Wpc1252, 16),
    ] {
        let mut p = profile("generic-80");
        p.code_pages = vec![receipt_printer::CodePageSlot { page, esc_t: n }];
        let doc = Document {
            blocks: vec![Block::Line {
                text: "a-b é".into(),
                style: Default::default(),
            }],
        };
        let bytes = encode_document(&doc, &p).expect("encodes");
        assert!(
            contains(&bytes, &[b'a', 0x2D, b'b']),
            "{page}: {bytes:02X?}"
        );
        assert!(!bytes.contains(&0xF0), "{page}");
    }
}

#[test]
fn xprinter_cancels_kanji_mode_after_initialize() {
    let bytes = encode_document(&Document::default(), &profile("xprinter-58")).expect("encodes");
    // ESC @, FS ., ESC t 0
    assert_eq!(&bytes[..7], &[0x1B, 0x40, 0x1C, 0x2E, 0x1B, 0x74, 0x00]);
}

#[test]
fn qr_is_gs_paren_k_model_size_ecc_store_print() {
    let doc = Document {
        blocks: vec![Block::Qr {
            payload: "ABC".into(),
            module_size: 6,
        }],
    };
    let bytes = encode_document(&doc, &profile("epson-tm-t20")).expect("encodes");
    let expected: &[u8] = &[
        0x1B, 0x61, 0x01, // ESC a 1: centre
        0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00, // fn 165: model 2
        0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06, // fn 167: module 6 dots
        0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31, // fn 169: level M
        0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30, b'A', b'B',
        b'C', // fn 180: store, pL = 3 + 3
        0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, // fn 181: print
        0x0A, 0x1B, 0x61, 0x00, // LF, ESC a 0
    ];
    assert!(contains(&bytes, expected), "{bytes:02X?}");
    assert_eq!(
        commands::qr_error_correction(QrErrorCorrection::H),
        [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x33]
    );
    assert_eq!(commands::justify(Justify::Right), [0x1B, 0x61, 0x02]);
}

#[test]
fn qr_store_length_spans_two_bytes() {
    let data = vec![b'x'; 300];
    let store = commands::qr_store(&data).expect("fits");
    // 300 + 3 = 303 = 0x012F -> pL 0x2F, pH 0x01
    assert_eq!(
        &store[..8],
        &[0x1D, 0x28, 0x6B, 0x2F, 0x01, 0x31, 0x50, 0x30]
    );
    assert!(commands::qr_store(&vec![b'x'; 7090]).is_none());
}

#[test]
fn raster_is_gs_v_0() {
    let raster =
        receipt_printer::Raster::from_packed(2, 2, vec![0xFF, 0x00, 0x0F, 0xF0]).expect("sizes");
    let bytes = encode_document(
        &Document {
            blocks: vec![Block::Image(raster)],
        },
        &profile("generic-58"),
    )
    .expect("encodes");
    // GS v 0 m=0 xL=2 xH=0 yL=2 yH=0 data
    let expected: &[u8] = &[
        0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, 0xFF, 0x00, 0x0F, 0xF0,
    ];
    assert!(contains(&bytes, expected), "{bytes:02X?}");
}

#[test]
fn status_requests_and_replies() {
    assert_eq!(commands::status_request(1), [0x10, 0x04, 0x01]);
    assert_eq!(commands::status_request(2), [0x10, 0x04, 0x02]);
    assert_eq!(commands::status_request(4), [0x10, 0x04, 0x04]);

    // Replies from the reference: fixed bits 1 and 4 set (0x12).
    let ready = Condition::ready();
    assert_eq!(
        [
            ready.status_byte(1),
            ready.status_byte(2),
            ready.status_byte(4)
        ],
        [0x12, 0x12, 0x12]
    );
    let out = Condition::paper_out();
    // offline (bit 3); stopped for paper end (bit 5); near end (bits 2,3) and end (bits 5,6)
    assert_eq!(
        [out.status_byte(1), out.status_byte(2), out.status_byte(4)],
        [0x1A, 0x32, 0x7E]
    );
    let cover = Condition {
        cover_open: true,
        ..Condition::ready()
    };
    assert_eq!([cover.status_byte(1), cover.status_byte(2)], [0x1A, 0x16]);

    let mut s = PrinterStatus::UNKNOWN;
    s.apply_reply(REQUEST_PRINTER, 0x1A).expect("valid");
    s.apply_reply(REQUEST_OFFLINE_CAUSE, 0x32).expect("valid");
    s.apply_reply(REQUEST_PAPER_SENSOR, 0x7E).expect("valid");
    assert_eq!((s.online, s.paper), (Some(false), PaperState::Out));
    let mut near = PrinterStatus::UNKNOWN;
    near.apply_reply(REQUEST_PAPER_SENSOR, 0x1E).expect("valid");
    assert_eq!(near.paper, PaperState::NearEnd);
}

#[test]
fn styles_are_esc_e_esc_minus_gs_bang() {
    assert_eq!(commands::bold(true), [0x1B, 0x45, 0x01]);
    assert_eq!(commands::underline(true), [0x1B, 0x2D, 0x01]);
    assert_eq!(commands::character_size(true, true), [0x1D, 0x21, 0x11]);
    assert_eq!(commands::character_size(false, true), [0x1D, 0x21, 0x01]);
    assert_eq!(commands::INITIALIZE, [0x1B, 0x40]);
}

#[test]
fn hand_built_lines_wider_than_the_paper_are_refused() {
    let p = profile("generic-58");
    let doc = Document {
        blocks: vec![Block::Line {
            text: "x".repeat(17),
            style: receipt_printer::TextStyle::BIG,
        }],
    };
    match encode_document(&doc, &p) {
        Err(receipt_printer::PrinterError::LineTooWide {
            columns: 34,
            width: 32,
            ..
        }) => {}
        other => panic!("expected LineTooWide, got {other:?}"),
    }
    let wide = receipt_printer::Raster::blank(392, 8);
    assert!(
        encode_document(
            &Document {
                blocks: vec![Block::Image(wide)]
            },
            &p
        )
        .is_err()
    );
    // a QR asked for at 16 dots per module is shrunk to fit 384 dots
    let doc = Document {
        blocks: vec![Block::Qr {
            payload: "x".repeat(100),
            module_size: 16,
        }],
    };
    let bytes = encode_document(&doc, &p).expect("encodes");
    let printout = receipt_printer::printout::Printout::from_bytes(&bytes, &p).expect("valid");
    match &printout.items[..] {
        [
            receipt_printer::printout::Printed::Qr { module_size, .. },
            ..,
        ] => assert!(*module_size <= 8),
        other => panic!("expected a QR, got {other:?}"),
    }
    // control characters in hand-built text never reach the printer as commands
    let doc = Document {
        blocks: vec![Block::Line {
            text: "a\u{1b}@\nb".into(),
            style: Default::default(),
        }],
    };
    let bytes = encode_document(&doc, &p).expect("encodes");
    assert_eq!(&bytes[5..], b"a?@?b\n");
}
