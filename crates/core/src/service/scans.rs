//! The signed paper, attached: a scan or photo of the signed application form, checked by its
//! content, stored with its SHA-256 and recorded on the case (audited), for the supervisor who
//! authorizes at their own desk (远程授权: the voucher image travels with the request).

use super::{draft, Service};
use crate::dto::CaseView;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::model::*;
use crate::permissions::Action;
use crate::ports::*;
use crate::print::{CopyKind, DocumentKind};

/// The largest scan or photo accepted, in bytes (10 MiB: a phone photo of an A4 page).
pub const MAX_SCAN_BYTES: usize = 10 * 1024 * 1024;

/// The media type of a scan from its content, or why it is refused: PNG (signature and IHDR,
/// ending with IEND: ISO/IEC 15948 §5.2, §11.2.5), JPEG (SOI and a marker: ITU-T T.81 B.1.1.2)
/// or PDF (header `%PDF-` and a trailer `%%EOF` in the last 1,024 bytes: ISO 32000-1 §7.5.2,
/// §7.5.5). A name's extension is never trusted; a file cut short fails here.
pub fn scan_type(bytes: &[u8]) -> Result<&'static str, String> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG) {
        let ihdr = bytes.get(12..16) == Some(b"IHDR".as_slice());
        let iend = bytes.len() >= 12 && &bytes[bytes.len() - 8..bytes.len() - 4] == b"IEND";
        return match (ihdr, iend) {
            (true, true) => Ok("image/png"),
            _ => Err("a PNG file that is damaged or cut short (no IHDR or IEND chunk)".into()),
        };
    }
    if bytes.len() >= 4 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF {
        return Ok("image/jpeg");
    }
    if bytes.starts_with(b"%PDF-") {
        let tail = &bytes[bytes.len().saturating_sub(1024)..];
        return if tail.windows(5).any(|w| w == b"%%EOF") {
            Ok("application/pdf")
        } else {
            Err("a PDF file cut short (no %%EOF trailer)".into())
        };
    }
    Err("not a PNG, JPEG or PDF file by its content".into())
}

/// The display name of a picked file: its last path component, printable, at most 100
/// characters, runs of digits masked (a scanner may name a file by the customer's ID number).
fn display_name(file_name: &str) -> String {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect::<String>();
    if base.trim().is_empty() {
        "scan".into()
    } else {
        crate::masking::scrub_digits(base.trim())
    }
}

impl<S: Store> Service<S> {
    /// Attach a scan or photo of the signed application form (PNG, JPEG or PDF, at most
    /// [`MAX_SCAN_BYTES`]), once the bank copy of the current revision was printed and before
    /// the submit (state `form-recorded` after the print, or `form-signed`). Recorded for the
    /// current form revision; audited `attach-signed-scan` with its SHA-256. Errors: `invalid`
    /// field `file` (rules `required`, `max-size`, `type`), `illegal-transition`, `forbidden`.
    pub(crate) fn attach_signed_scan(
        &self,
        actor: &Actor,
        case_id: CaseId,
        file_name: &str,
        bytes: &[u8],
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        if actor.system_kind().is_some() {
            return Err(CoreError::forbidden(
                "a scan is attached by a signed-in teller (--as STAFF_ID)",
            ));
        }
        self.permit(actor, Action::ConfirmSigned, Some(case_id))?;
        if bytes.is_empty() {
            return Err(CoreError::field("file", "required", "the file is empty"));
        }
        if bytes.len() > MAX_SCAN_BYTES {
            return Err(CoreError::field(
                "file",
                "max-size",
                format!(
                    "the file is {:.1} MiB; a scan may be at most {} MiB",
                    bytes.len() as f64 / 1_048_576.0,
                    MAX_SCAN_BYTES / 1_048_576
                ),
            ));
        }
        let media_type = scan_type(bytes).map_err(|why| {
            CoreError::field(
                "file",
                "type",
                format!("{why}: attach a PNG or JPEG photo, or a PDF scan"),
            )
        })?;
        let now = self.now();
        let rec = DocumentRecord {
            id: self.uuid().to_string(),
            case_id,
            kind: DocumentKind::SignedScan,
            copy: CopyKind::Bank,
            path: String::new(),
            sha256: String::new(),
            bytes: 0,
            at: now,
            by: actor.staff_id().clone(),
        };
        let name = display_name(file_name);
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            if let Some(key) = idem {
                if let Some(first) = tx.idempotent(key)? {
                    return first.replays(key, case_id, "attach-signed-scan");
                }
            }
            let mut case = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            let printed = case.form_printed();
            // Not once submitted: the supervisor decides on the pages they were shown.
            let open = match case.state {
                CaseState::FormRecorded => printed,
                CaseState::FormSigned => true,
                _ => false,
            };
            if !open {
                return Err(CoreError::new(
                    ErrorCode::IllegalTransition,
                    if case.state == CaseState::FormRecorded {
                        format!(
                            "print the bank copy of form revision {} first: the signed paper is a print of it",
                            case.form_revision
                        )
                    } else {
                        format!(
                            "a signed scan is attached once the form is printed and before it is submitted (form-recorded, form-signed), not when the case is '{}'",
                            case.state
                        )
                    },
                ));
            }
            let saved = tx.save_document(&rec, bytes)?;
            let scan = SignedScan {
                document_id: saved.id.clone(),
                form_revision: case.form_revision,
                media_type: media_type.into(),
                bytes: saved.bytes,
                sha256: saved.sha256.clone(),
                file_name: name.clone(),
                by: actor.staff_id().clone(),
                at: now,
            };
            let detail = serde_json::json!({
                "document_id": scan.document_id,
                "sha256": scan.sha256,
                "media_type": scan.media_type,
                "bytes": scan.bytes,
                "form_revision": scan.form_revision,
            })
            .to_string();
            case.signed_scans.push(scan);
            let expected = case.version;
            case.version += 1;
            case.updated_at = now;
            tx.update_case(&case, expected)?;
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                Some(case_id),
                "attach-signed-scan",
                Some(case.state),
                Some(case.state),
                "",
                Outcome::Ok,
                &detail,
            ))?;
            if let Some(key) = idem {
                tx.remember_idempotent(key, case_id, "attach-signed-scan", now)?;
            }
            Ok(())
        })?;
        self.case_view(actor, case_id)
    }
}

#[cfg(test)]
mod tests {
    use super::scan_type;

    #[test]
    fn scans_are_typed_by_content_and_cut_files_refused() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend([0u8; 13]);
        png.extend(b"\0\0\0\0IEND\xaeB`\x82");
        assert_eq!(scan_type(&png), Ok("image/png"));
        assert!(scan_type(&png[..png.len() - 12]).is_err(), "no IEND");
        assert_eq!(scan_type(b"\xff\xd8\xff\xe0\0\x10JFIF"), Ok("image/jpeg"));
        let pdf = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
        assert_eq!(scan_type(pdf), Ok("application/pdf"));
        assert!(scan_type(&pdf[..20]).is_err(), "no trailer");
        assert!(scan_type(b"GIF89a....").is_err());
        assert!(scan_type(b"").is_err());
        // A PNG named .pdf is a PNG; a text file named .png is refused.
        assert!(scan_type(b"hello, this is not an image").is_err());
    }
}
