//! Trade parties (BG-4 seller, BG-7 buyer) in CII.

use crate::en16931::Party;
use crate::xml::{Document, ElementId};

use super::RAM;

/// Reads a `ram:SellerTradeParty` or `ram:BuyerTradeParty`:
///
/// - BT-29/BT-46 identifier: the first `ram:GlobalID` with its `schemeID` (a GLN under scheme
///   0088), else the first `ram:ID` (no scheme) — the global identifier first, as the CII to UBL
///   conversion puts it in `cac:PartyIdentification`;
/// - BT-27/BT-44 `ram:Name`;
/// - BT-30/BT-47 `ram:SpecifiedLegalOrganization/ram:ID`;
/// - BT-31/BT-48 `ram:SpecifiedTaxRegistration/ram:ID` with `schemeID="VA"` (tax numbers under
///   `FC`, BT-32, are not a party code and are skipped);
/// - BT-34/BT-49 `ram:URIUniversalCommunication/ram:URIID` with its `schemeID`.
pub(super) fn read(doc: &Document, party: ElementId) -> Party {
    let with_scheme = |e: ElementId| {
        let value = doc.text(e);
        (!value.is_empty()).then(|| (doc.attribute(e, "schemeID").map(str::to_owned), value.to_owned()))
    };
    let global = doc.children(party, RAM, "GlobalID").find_map(with_scheme);
    let local = doc.children(party, RAM, "ID").map(|e| doc.text(e)).find(|v| !v.is_empty());
    let vat_id = doc
        .children(party, RAM, "SpecifiedTaxRegistration")
        .filter_map(|r| doc.child(r, RAM, "ID"))
        .filter(|id| doc.attribute(*id, "schemeID").is_some_and(|s| s.trim() == "VA"))
        .map(|id| doc.text(id))
        .find(|v| !v.is_empty())
        .map(str::to_owned);
    let endpoint = doc
        .children(party, RAM, "URIUniversalCommunication")
        .filter_map(|c| doc.child(c, RAM, "URIID"))
        .find_map(with_scheme);
    Party {
        name: doc.text_at(party, &[(RAM, "Name")]).map(str::to_owned),
        id: global.or_else(|| local.map(|v| (None, v.to_owned()))),
        legal_id: doc.text_at(party, &[(RAM, "SpecifiedLegalOrganization"), (RAM, "ID")]).map(str::to_owned),
        vat_id,
        endpoint,
    }
}
