//! QRIS payloads (EMVCo merchant-presented QR): the checks a store's static payload must pass
//! before it is shown to customers. A payload is a run of TLV objects (two-digit id, two-digit
//! length, value); the last is `63` with the CRC-16/CCITT-FALSE, as four upper-case hex digits,
//! of everything before it including `6304`. A mistyped payload would make every customer's
//! banking app refuse the code, so it is refused when the settings are saved.

use crate::error::{ModelError, ModelResult};

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), the EMVCo QR checksum; the `crc` crate calls
/// it `CRC_16_IBM_3740`.
const EMV_CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);

/// The checksum of `data` as EMVCo writes it (four upper-case hex digits).
pub fn crc16(data: &str) -> String {
    format!("{:04X}", EMV_CRC.checksum(data.as_bytes()))
}

/// Completes a payload whose objects are all written except the CRC: appends `6304` and the
/// checksum.
pub fn with_crc(body: &str) -> String {
    let head = format!("{body}6304");
    let crc = crc16(&head);
    format!("{head}{crc}")
}

fn invalid(reason: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        field: "QRIS payload",
        reason: reason.into(),
    }
}

/// Checks a payload's structure (TLV objects, format indicator `01` first, CRC last) and its
/// CRC.
pub fn check_payload(payload: &str) -> ModelResult<()> {
    if !payload.is_ascii() {
        return Err(invalid("contains characters other than ASCII"));
    }
    if payload.len() > 512 {
        return Err(invalid("is longer than 512 characters"));
    }
    let mut at = 0;
    let mut first = true;
    while at < payload.len() {
        let header = payload
            .get(at..at + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| invalid(format!("no object header at position {at}")))?;
        let (id, len) = (&header[..2], header[2..].parse::<usize>().unwrap_or(0));
        let value = payload
            .get(at + 4..at + 4 + len)
            .ok_or_else(|| invalid(format!("object {id} runs past the end")))?;
        if first && (id != "00" || value != "01") {
            return Err(invalid("does not start with the format indicator 000201"));
        }
        first = false;
        if id == "63" {
            if len != 4 || at + 8 != payload.len() {
                return Err(invalid(
                    "the CRC (object 63) must be the last, four digits long",
                ));
            }
            let expected = crc16(&payload[..at + 4]);
            if !value.eq_ignore_ascii_case(&expected) {
                return Err(invalid(format!(
                    "CRC is {value}, the content gives {expected} (mistyped?)"
                )));
            }
            return Ok(());
        }
        at += 4 + len;
    }
    Err(invalid("has no CRC (object 63)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_ccitt_false() {
        // The catalogue's check value of CRC-16/CCITT-FALSE.
        assert_eq!(crc16("123456789"), "29B1");
    }

    #[test]
    fn a_complete_payload_passes_and_a_mistyped_one_is_refused() {
        let p = with_crc(
            "00020101021126660014ID.CO.QRIS.WWW01189360001400000000010215ID10200000000010303UMI\
             5204541153033605802ID5909TOKO DEMO6007JAKARTA",
        );
        check_payload(&p).unwrap();
        // One character changed in the merchant name.
        let typo = p.replacen("TOKO DEMO", "TOKO DEM0", 1);
        let err = check_payload(&typo).unwrap_err().to_string();
        assert!(err.contains("CRC"), "{err}");
        assert!(check_payload(&p[..p.len() - 1]).is_err());
        assert!(check_payload("").is_err());
        assert!(check_payload("hello").is_err());
        assert!(check_payload(&with_crc("0002025802ID")).is_err());
    }
}
