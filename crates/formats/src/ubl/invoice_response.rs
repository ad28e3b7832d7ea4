//! Peppol Invoice Response 3.0 (transaction T111, a UBL `ApplicationResponse`): the answer
//! Backroom sends a supplier about an invoice — received, in process, under query, accepted,
//! rejected, paid — written from the outcome of the three-way match, and read back.

use std::fmt::{self, Write as _};

use backroom_model::{InvoiceKind, SupplierInvoice};
use chrono::NaiveDate;

use super::common::{CAC, CBC, Reader};
use crate::xml::{Document, ElementId};
use crate::{Context, Problem, Reply, to_code};

/// The Peppol Invoice Response transaction (`cbc:CustomizationID`).
pub const CUSTOMIZATION_ID: &str = "urn:fdc:peppol.eu:poacc:trns:invoice_response:3";
/// The Peppol Invoice Response process (`cbc:ProfileID`).
pub const PROFILE_ID: &str = "urn:fdc:peppol.eu:poacc:bis:invoice_response:3";
/// The UBL ApplicationResponse namespace.
pub const NAMESPACE: &str = "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2";

/// The invoice status (UNCL4343 subset of Peppol T111).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseCode {
    /// `AB`: the invoice was received and is waiting to be processed.
    Acknowledged,
    /// `IP`: the invoice is being processed.
    InProcess,
    /// `UQ`: the invoice is on hold until the supplier answers a query.
    UnderQuery,
    /// `CA`: the invoice is accepted on the conditions stated.
    ConditionallyAccepted,
    /// `RE`: the invoice is rejected and will not be processed.
    Rejected,
    /// `AP`: the invoice is accepted for payment.
    Accepted,
    /// `PD`: payment has been initiated.
    Paid,
}

impl ResponseCode {
    /// Every status, in process order.
    pub const ALL: [ResponseCode; 7] = [
        ResponseCode::Acknowledged,
        ResponseCode::InProcess,
        ResponseCode::UnderQuery,
        ResponseCode::ConditionallyAccepted,
        ResponseCode::Rejected,
        ResponseCode::Accepted,
        ResponseCode::Paid,
    ];

    /// The UNCL4343 code (`AP`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseCode::Acknowledged => "AB",
            ResponseCode::InProcess => "IP",
            ResponseCode::UnderQuery => "UQ",
            ResponseCode::ConditionallyAccepted => "CA",
            ResponseCode::Rejected => "RE",
            ResponseCode::Accepted => "AP",
            ResponseCode::Paid => "PD",
        }
    }

    /// The status of a UNCL4343 code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Status reason codes (OPStatusReason) a Peppol invoice response may give.
pub const STATUS_REASONS: [&str; 13] =
    ["NON", "REF", "LEG", "REC", "QUA", "DEL", "PRI", "QTY", "ITM", "PAY", "UNR", "FIN", "PPD"];
/// Status action codes (OPStatusAction) a Peppol invoice response may ask for.
pub const STATUS_ACTIONS: [&str; 6] = ["NOA", "PIN", "NIN", "CNF", "CNP", "CNA"];

/// A party of an invoice response: its Peppol endpoint and name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseParty {
    /// The endpoint's scheme (EAS code such as `0088` GLN, `0192` Norwegian organisation number).
    pub endpoint_scheme: String,
    /// The endpoint identifier.
    pub endpoint_id: String,
    /// The party identifier and its scheme, when given.
    pub party_id: Option<(Option<String>, String)>,
    /// The legal name.
    pub name: String,
}

/// A Peppol invoice response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceResponse {
    /// The response's own identifier (`cbc:ID`).
    pub response_id: String,
    /// The day the response was issued.
    pub issued_on: NaiveDate,
    /// The buyer (or its invoice processing service) sending the response.
    pub sender: ResponseParty,
    /// The seller receiving it.
    pub receiver: ResponseParty,
    /// The invoice answered (its BT-1 number).
    pub invoice_number: String,
    /// The invoice's issue day, when given.
    pub invoice_issued_on: Option<NaiveDate>,
    /// The invoice's type code (UNCL1001: `380` invoice, `381` credit note).
    pub invoice_type_code: String,
    /// The status.
    pub status: ResponseCode,
    /// The day the status takes effect, when given.
    pub effective_on: Option<NaiveDate>,
    /// Why: (OPStatusReason code, text), such as (`QTY`, "line 2: 12 invoiced, 10 received").
    pub reasons: Vec<(String, String)>,
    /// What the seller should do: (OPStatusAction code, text), such as (`CNP`, "").
    pub actions: Vec<(String, String)>,
    /// A note to the seller.
    pub note: Option<String>,
}

impl InvoiceResponse {
    /// The response as a reply to send.
    pub fn reply(&self) -> Reply {
        Reply {
            kind: "peppol_invoice_response".to_owned(),
            media_type: "application/xml".to_owned(),
            body: write_invoice_response(self),
        }
    }
}

/// Writes a Peppol Invoice Response 3.0 document.
pub fn write_invoice_response(r: &InvoiceResponse) -> String {
    let mut x = String::with_capacity(2048);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(x, "<ApplicationResponse xmlns=\"{NAMESPACE}\" xmlns:cac=\"{CAC}\" xmlns:cbc=\"{CBC}\">");
    let _ = writeln!(x, "  <cbc:CustomizationID>{CUSTOMIZATION_ID}</cbc:CustomizationID>");
    let _ = writeln!(x, "  <cbc:ProfileID>{PROFILE_ID}</cbc:ProfileID>");
    let _ = writeln!(x, "  <cbc:ID>{}</cbc:ID>", escape(&r.response_id));
    let _ = writeln!(x, "  <cbc:IssueDate>{}</cbc:IssueDate>", r.issued_on.format("%Y-%m-%d"));
    if let Some(note) = &r.note {
        let _ = writeln!(x, "  <cbc:Note>{}</cbc:Note>", escape(note));
    }
    write_party(&mut x, "SenderParty", &r.sender);
    write_party(&mut x, "ReceiverParty", &r.receiver);
    x.push_str("  <cac:DocumentResponse>\n    <cac:Response>\n");
    let _ = writeln!(x, "      <cbc:ResponseCode>{}</cbc:ResponseCode>", r.status.as_str());
    if let Some(d) = r.effective_on {
        let _ = writeln!(x, "      <cbc:EffectiveDate>{}</cbc:EffectiveDate>", d.format("%Y-%m-%d"));
    }
    for (list, entries) in [("OPStatusReason", &r.reasons), ("OPStatusAction", &r.actions)] {
        for (code, text) in entries {
            x.push_str("      <cac:Status>\n");
            let _ =
                writeln!(x, "        <cbc:StatusReasonCode listID=\"{list}\">{}</cbc:StatusReasonCode>", escape(code));
            if !text.trim().is_empty() {
                let _ = writeln!(x, "        <cbc:StatusReason>{}</cbc:StatusReason>", escape(text));
            }
            x.push_str("      </cac:Status>\n");
        }
    }
    x.push_str("    </cac:Response>\n    <cac:DocumentReference>\n");
    let _ = writeln!(x, "      <cbc:ID>{}</cbc:ID>", escape(&r.invoice_number));
    if let Some(d) = r.invoice_issued_on {
        let _ = writeln!(x, "      <cbc:IssueDate>{}</cbc:IssueDate>", d.format("%Y-%m-%d"));
    }
    let _ = writeln!(x, "      <cbc:DocumentTypeCode>{}</cbc:DocumentTypeCode>", escape(&r.invoice_type_code));
    x.push_str("    </cac:DocumentReference>\n  </cac:DocumentResponse>\n</ApplicationResponse>\n");
    x
}

fn write_party(x: &mut String, role: &str, p: &ResponseParty) {
    let _ = writeln!(x, "  <cac:{role}>");
    if p.endpoint_scheme.is_empty() {
        let _ = writeln!(x, "    <cbc:EndpointID>{}</cbc:EndpointID>", escape(&p.endpoint_id));
    } else {
        let _ = writeln!(
            x,
            "    <cbc:EndpointID schemeID=\"{}\">{}</cbc:EndpointID>",
            escape(&p.endpoint_scheme),
            escape(&p.endpoint_id)
        );
    }
    if let Some((scheme, id)) = &p.party_id {
        x.push_str("    <cac:PartyIdentification>\n");
        match scheme {
            Some(s) => {
                let _ = writeln!(x, "      <cbc:ID schemeID=\"{}\">{}</cbc:ID>", escape(s), escape(id));
            }
            None => {
                let _ = writeln!(x, "      <cbc:ID>{}</cbc:ID>", escape(id));
            }
        }
        x.push_str("    </cac:PartyIdentification>\n");
    }
    x.push_str("    <cac:PartyLegalEntity>\n");
    let _ = writeln!(x, "      <cbc:RegistrationName>{}</cbc:RegistrationName>", escape(&p.name));
    x.push_str("    </cac:PartyLegalEntity>\n");
    let _ = writeln!(x, "  </cac:{role}>");
}

/// Escapes text for element content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Reads a Peppol invoice response, or every problem with it.
pub fn read_invoice_response(bytes: &[u8]) -> Result<InvoiceResponse, Vec<Problem>> {
    let doc = Document::parse(bytes).map_err(|p| vec![p])?;
    from_document(&doc)
}

/// Reads an invoice response from its tree.
pub(super) fn from_document(doc: &Document) -> Result<InvoiceResponse, Vec<Problem>> {
    let mut r = Reader::new(doc);
    let root = doc.root();
    let el = doc.get(root);
    if el.name != "ApplicationResponse" || el.namespace != NAMESPACE {
        return Err(vec![doc.problem(
            root,
            format!(
                "the root element is <{}> in {:?}; an invoice response is a UBL ApplicationResponse",
                el.name, el.namespace
            ),
        )]);
    }
    match r.text(root, "CustomizationID") {
        Some(c) if c == CUSTOMIZATION_ID => {}
        other => {
            let at = r.cbc(root, "CustomizationID").unwrap_or(root);
            r.problem(
                at,
                format!(
                    "CustomizationID {:?} is not the Peppol invoice response {CUSTOMIZATION_ID}",
                    other.unwrap_or_default()
                ),
            );
        }
    }
    let response_id = r.text(root, "ID").unwrap_or_default();
    if response_id.is_empty() {
        r.problem(root, "the invoice response has no cbc:ID");
    }
    let issued_on = r.date(root, "IssueDate");
    if issued_on.is_none() && r.cbc(root, "IssueDate").is_none() {
        r.problem(root, "the invoice response has no cbc:IssueDate");
    }
    let note = {
        let notes: Vec<String> = doc.children(root, CBC, "Note").map(|n| doc.text(n).to_owned()).collect();
        (!notes.is_empty()).then(|| notes.join("\n"))
    };
    let sender = read_party(&mut r, root, "SenderParty");
    let receiver = read_party(&mut r, root, "ReceiverParty");
    let Some(dr) = r.cac(root, "DocumentResponse") else {
        r.problem(root, "the invoice response has no cac:DocumentResponse");
        return Err(r.problems);
    };
    let response = r.cac(dr, "Response");
    let status = match response.and_then(|resp| r.cbc(resp, "ResponseCode")) {
        Some(e) => {
            let code = doc.text(e).to_owned();
            let s = ResponseCode::parse(&code);
            if s.is_none() {
                r.problem(e, format!("response code {code:?} is not one of AB, IP, UQ, CA, RE, AP, PD"));
            }
            s
        }
        None => {
            r.problem(response.unwrap_or(dr), "the invoice response has no cac:Response/cbc:ResponseCode");
            None
        }
    };
    let effective_on = response.and_then(|resp| r.date(resp, "EffectiveDate"));
    let mut reasons = Vec::new();
    let mut actions = Vec::new();
    for st in response.map(|resp| r.cacs(resp, "Status")).unwrap_or_default() {
        let text = r.text(st, "StatusReason").unwrap_or_default();
        match r.cbc(st, "StatusReasonCode") {
            Some(e) => {
                let code = doc.text(e).to_owned();
                match doc.attribute(e, "listID").map(str::trim) {
                    Some("OPStatusAction") => actions.push((code, text)),
                    Some("OPStatusReason") => reasons.push((code, text)),
                    other => r.problem(
                        e,
                        format!(
                            "status reason code listID {:?} is neither OPStatusReason nor OPStatusAction",
                            other.unwrap_or_default()
                        ),
                    ),
                }
            }
            None => reasons.push(("OTH".to_owned(), text)),
        }
    }
    let reference = r.cac(dr, "DocumentReference");
    if reference.is_none() {
        r.problem(dr, "the invoice response has no cac:DocumentReference naming the invoice");
    }
    let invoice_number = reference.and_then(|d| r.text(d, "ID")).unwrap_or_default();
    let invoice_issued_on = reference.and_then(|d| r.date(d, "IssueDate"));
    let invoice_type_code = reference.and_then(|d| r.text(d, "DocumentTypeCode")).unwrap_or_default();
    match (issued_on, status) {
        (Some(issued_on), Some(status)) if r.problems.is_empty() => Ok(InvoiceResponse {
            response_id,
            issued_on,
            sender,
            receiver,
            invoice_number,
            invoice_issued_on,
            invoice_type_code,
            status,
            effective_on,
            reasons,
            actions,
            note,
        }),
        _ => Err(r.problems),
    }
}

fn read_party(r: &mut Reader<'_>, root: ElementId, role: &str) -> ResponseParty {
    let Some(p) = r.cac(root, role) else {
        r.problem(root, format!("the invoice response has no cac:{role}"));
        return ResponseParty::default();
    };
    let (endpoint_scheme, endpoint_id) = match r.scheme_id(p, "EndpointID") {
        Some((scheme, id)) => (scheme.unwrap_or_default(), id),
        None => {
            r.problem(p, format!("cac:{role} has no cbc:EndpointID; the Peppol endpoint is required"));
            Default::default()
        }
    };
    ResponseParty {
        endpoint_scheme,
        endpoint_id,
        party_id: r.path(p, &["PartyIdentification"]).and_then(|i| r.scheme_id(i, "ID")),
        name: r.text_in(p, &["PartyLegalEntity"], "RegistrationName").unwrap_or_default(),
    }
}

/// The invoice response for the outcome of checking a supplier invoice (three-way match):
/// accepted → `AP`, rejected → `RE` (asking for a new invoice, `NIN`), under query → `UQ`
/// (asking for a partial credit note, `CNP`, when quantities or prices are wrong, else for
/// information, `PIN`), conditionally accepted → `CA`, paid → `PD`, received → `AB`, in
/// process → `IP`. `reasons` are (OPStatusReason code, text) pairs such as (`QTY`, "…").
///
/// The sender is Backroom: `ctx.sender_id`, written `scheme:id` (`0088:5790000000001`) for a
/// Peppol endpoint. The receiver is the supplier: its code, taken as `scheme:id` in the same
/// way. The response id is `<invoice>-<status>-<control number>`, issued on `ctx.now`.
pub fn invoice_response_for(
    invoice: &SupplierInvoice,
    status: ResponseCode,
    reasons: Vec<(String, String)>,
    ctx: &Context,
) -> InvoiceResponse {
    let action = match status {
        ResponseCode::Rejected => Some("NIN"),
        ResponseCode::UnderQuery
            if reasons.iter().any(|(c, _)| matches!(c.as_str(), "QTY" | "PRI" | "DEL" | "QUA")) =>
        {
            Some("CNP")
        }
        ResponseCode::UnderQuery => Some("PIN"),
        _ => None,
    };
    let (sender_scheme, sender_id) = endpoint(&ctx.sender_id);
    let (receiver_scheme, receiver_id) = endpoint(invoice.supplier.as_str());
    let number = invoice.invoice_number.as_str();
    InvoiceResponse {
        response_id: to_code(&format!("{number}-{}-{}", status.as_str(), ctx.control_number))
            .unwrap_or_else(|| format!("{}-{}", status.as_str(), ctx.control_number)),
        issued_on: ctx.now.date_naive(),
        sender: ResponseParty {
            endpoint_scheme: sender_scheme,
            endpoint_id: sender_id.clone(),
            party_id: None,
            name: sender_id,
        },
        receiver: ResponseParty {
            endpoint_scheme: receiver_scheme,
            endpoint_id: receiver_id,
            party_id: None,
            name: invoice.supplier.as_str().to_owned(),
        },
        invoice_number: number.to_owned(),
        invoice_issued_on: Some(invoice.issued_on),
        invoice_type_code: match invoice.kind {
            InvoiceKind::Invoice => "380",
            InvoiceKind::CreditNote => "381",
        }
        .to_owned(),
        status,
        effective_on: None,
        reasons,
        actions: action.map(|a| vec![(a.to_owned(), String::new())]).unwrap_or_default(),
        note: None,
    }
}

/// Splits `0088:5790000000001` into its EAS scheme and identifier; an identifier without a
/// four-digit scheme prefix keeps an empty scheme.
fn endpoint(id: &str) -> (String, String) {
    match id.split_once(':') {
        Some((scheme, rest)) if scheme.len() == 4 && scheme.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty() => {
            (scheme.to_owned(), rest.to_owned())
        }
        _ => (String::new(), id.to_owned()),
    }
}

/// The problem reported when an invoice response is given to [`super::parse`].
pub(super) fn not_ingested(doc: &Document) -> Problem {
    let root = doc.root();
    let what = match read_invoice_response_summary(doc) {
        Some(s) => format!(" (status {s})"),
        None => String::new(),
    };
    Problem::new(
        doc.location(root),
        format!(
            "this is a Peppol invoice response{what}: Backroom sends invoice responses to suppliers and does not ingest them; send invoices, credit notes, orders, order responses, despatch advices or receipt advices"
        ),
    )
}

fn read_invoice_response_summary(doc: &Document) -> Option<String> {
    from_document(doc).ok().map(|r| format!("{} for invoice {}", r.status, r.invoice_number))
}
