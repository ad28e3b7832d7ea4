//! GS1 EPCIS 2.0 samples (JSON, JSON-LD, XML) through the public entry point.

use backroom_formats::{Context, Location, Parsed, epcis, parse};
use backroom_model::EventPayload;
use chrono::TimeZone;
use proptest::prelude::*;
use rust_decimal::Decimal;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/epcis");

fn cx() -> Context {
    Context::new(chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap())
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn ok(rel: &str) -> Parsed {
    parse(&read(rel), &cx()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every JSON/JSON-LD/XML file of the sample folders (schemas and contexts included: they
/// must be refused, not crash).
fn sample_files() -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(DATA)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "jsonld" | "xml")) {
                let rel = p.strip_prefix(DATA).unwrap().display().to_string();
                if !rel.contains("/XSD/") && !rel.contains("JSON-Schema/schemas/") && !rel.contains("JSON-LD-Context/")
                {
                    out.push(rel);
                }
            }
        }
    }
    out.sort();
    out
}

/// Expected outcome per sample: the canonical event types in order, or the start of the first
/// problem's message.
const SAMPLES: &[(&str, Result<&[&str], &str>)] = &[
    ("gs1-EPCIS/JSON/AssociationEvent/AssociationEvent-a.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/AssociationEvent/AssociationEvent-b.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/AssociationEvent/AssociationEvent-c.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/AssociationEvent/AssociationEvent-d.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/AssociationEvent/AssociationEvent-e.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/AssociationEvent/AssociationEvent-f.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/AssociationEvent/AssociationEvent-g.jsonld", Ok(&["event.retracted"])),
    ("gs1-EPCIS/JSON/AssociationEvent/AssociationEvent-h.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/EPCISQueryDocument.jsonld", Ok(&["goods.observed", "receipt.posted"])),
    ("gs1-EPCIS/JSON/Example-TransactionEvents-2020_07_03y.jsonld", Ok(&["goods.observed", "goods.observed"])),
    ("gs1-EPCIS/JSON/Example-Type-sourceOrDestination,measurement,bizTransaction.jsonld", Ok(&["goods.observed"])),
    (
        "gs1-EPCIS/JSON/Example_9.6.1-ObjectEvent-with-pseudo-SBDH-headers.jsonld",
        Ok(&["goods.observed", "receipt.posted"]),
    ),
    ("gs1-EPCIS/JSON/Example_9.6.1-ObjectEvent.jsonld", Ok(&["goods.observed", "receipt.posted"])),
    ("gs1-EPCIS/JSON/Example_9.6.1-with-comment.jsonld", Ok(&["goods.observed", "receipt.posted"])),
    ("gs1-EPCIS/JSON/Example_9.6.2-ObjectEvent.jsonld", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/JSON/Example_9.6.3-AggregationEvent.jsonld", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/JSON/Example_9.6.4-TransformationEvent.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/PersistentDisposition-example.jsonld", Ok(&["receipt.posted", "goods.observed"])),
    (
        "gs1-EPCIS/JSON/WithDigitalLinkID/Example_9.6.1-ObjectEventWithDigitalLink.jsonld",
        Ok(&["goods.observed", "receipt.posted"]),
    ),
    ("gs1-EPCIS/JSON/WithDigitalLinkID/Example_9.6.2-ObjectEventWithDigitalLink.jsonld", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/JSON/WithDigitalLinkID/Example_9.6.3-AggregationEventWithDigitalLink.jsonld", Ok(&["receipt.posted"])),
    (
        "gs1-EPCIS/JSON/WithDigitalLinkID/Example_9.6.4-TransformationEventWithDigitalLink.jsonld",
        Ok(&["goods.observed"]),
    ),
    (
        "gs1-EPCIS/JSON/WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld",
        Ok(&["event.retracted", "goods.observed"]),
    ),
    (
        "gs1-EPCIS/JSON/WithErrorDeclaration/Example_9.6.1-ObjectEvent-with-error-declaration.jsonld",
        Ok(&["event.retracted", "receipt.posted"]),
    ),
    (
        "gs1-EPCIS/JSON/WithFullCombinationOfFields/aggregation_event_all_possible_fields.jsonld",
        Ok(&["event.retracted"]),
    ),
    (
        "gs1-EPCIS/JSON/WithFullCombinationOfFields/association_event_all_possible_fields.jsonld",
        Ok(&["event.retracted"]),
    ),
    ("gs1-EPCIS/JSON/WithFullCombinationOfFields/object_event_all_possible_fields.jsonld", Ok(&["event.retracted"])),
    (
        "gs1-EPCIS/JSON/WithFullCombinationOfFields/transaction_event_all_possible_fields.jsonld",
        Ok(&["event.retracted"]),
    ),
    (
        "gs1-EPCIS/JSON/WithFullCombinationOfFields/transformation_event_all_possible_fields.jsonld",
        Ok(&["event.retracted"]),
    ),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample1.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample10.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample11.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample12.jsonld", Ok(&["event.retracted"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample13.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample14.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample15.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample16.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample17.jsonld", Ok(&["goods.observed"])),
    (
        "gs1-EPCIS/JSON/WithSensorData/SensorDataExample1b.jsonld",
        Err("an ObjectEvent names its goods in epcList or quantityList; i"),
    ),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample2.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample3.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample4.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample5.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample6.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample7.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample8.jsonld", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON/WithSensorData/SensorDataExample9.jsonld", Ok(&["goods.observed"])),
    (
        "gs1-EPCIS/JSON-Schema/EPCIS-Document-JSON-Schema.json",
        Err("the document has no @context; EPCIS 2.0 JSON-LD starts with "),
    ),
    (
        "gs1-EPCIS/JSON-Schema/EPCIS-Event-JSON-Schema.json",
        Err("the document has no @context; EPCIS 2.0 JSON-LD starts with "),
    ),
    (
        "gs1-EPCIS/JSON-Schema/EPCIS-JSON-Schema-root.json",
        Err("the document has no @context; EPCIS 2.0 JSON-LD starts with "),
    ),
    (
        "gs1-EPCIS/JSON-Schema/EPCIS-Query-JSON-Schema-root.json",
        Err("the content is not a known document format; expected EPCIS 2"),
    ),
    ("gs1-EPCIS/JSON-Schema/test/AggregationEvent.json", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/JSON-Schema/test/AssociationEvent.json", Ok(&["goods.observed"])),
    (
        "gs1-EPCIS/JSON-Schema/test/Extended-Event.json",
        Err("type \"example:CustomEvent\" is not EPCISDocument, EPCISQueryD"),
    ),
    ("gs1-EPCIS/JSON-Schema/test/ObjectEvent.json", Ok(&["goods.observed"])),
    ("gs1-EPCIS/JSON-Schema/test/TransformationEvent.json", Ok(&["goods.observed"])),
    (
        "gs1-EPCIS/JSON-Schema/test/schemas/sch1.json",
        Err("the content is not a known document format; expected EPCIS 2"),
    ),
    (
        "gs1-EPCIS/JSON-Schema/test/schemas/sch2.json",
        Err("the content is not a known document format; expected EPCIS 2"),
    ),
    (
        "gs1-EPCIS/XML/AssociationEvent/AssociationEventExamples.xml",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    ("gs1-EPCIS/XML/CBV/CBV-11.1-2020-06-16a.xml", Ok(&["goods.observed"])),
    ("gs1-EPCIS/XML/CBV/CBV-11.2-2020-06-16a.xml", Ok(&["goods.observed"])),
    ("gs1-EPCIS/XML/CBV/CBV-11.3-2020-06-16a.xml", Ok(&["goods.observed"])),
    ("gs1-EPCIS/XML/CBV/CBV-11.4-2020-06-16a.xml", Err("an EPCIS master data document carries vocabulary, not events")),
    (
        "gs1-EPCIS/XML/CaptureJob/Example-CaptureJobRunning.xml",
        Err("XML root element <EPCISCaptureJob> in namespace \"urn:epcglob"),
    ),
    (
        "gs1-EPCIS/XML/CaptureJob/Example-CaptureJobSuccess.xml",
        Err("XML root element <EPCISCaptureJob> in namespace \"urn:epcglob"),
    ),
    (
        "gs1-EPCIS/XML/CaptureJob/Example-CaptureJobWithErrorFile.xml",
        Err("XML root element <EPCISCaptureJob> in namespace \"urn:epcglob"),
    ),
    (
        "gs1-EPCIS/XML/CaptureJob/Example-CaptureJobWithErrors.xml",
        Err("XML root element <EPCISCaptureJob> in namespace \"urn:epcglob"),
    ),
    ("gs1-EPCIS/XML/Example-PersistentDisposition.xml", Ok(&["receipt.posted", "goods.observed"])),
    ("gs1-EPCIS/XML/Example-TransactionEvent-2020_07_03y.xml", Ok(&["goods.observed", "goods.observed"])),
    ("gs1-EPCIS/XML/Example_9.6.1-ObjectEvent-2020_06_18a.xml", Ok(&["goods.observed", "receipt.posted"])),
    (
        "gs1-EPCIS/XML/Mimasu/Example-associatonEvent-sensor.xml",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    (
        "gs1-EPCIS/XML/Mimasu/Example-masterData.xml",
        Err("an EPCIS master data document carries vocabulary, not events"),
    ),
    ("gs1-EPCIS/XML/Mimasu/Example1.xml", Ok(&["goods.observed", "receipt.posted"])),
    ("gs1-EPCIS/XML/Mimasu/Example2.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/Mimasu/Example3.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/Mimasu/Example4.xml", Ok(&["goods.observed"])),
    (
        "gs1-EPCIS/XML/WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.xml",
        Ok(&["event.retracted", "goods.observed"]),
    ),
    ("gs1-EPCIS/XML/WithEventHashID/event_with_identical_hash_id_1.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/WithEventHashID/event_with_identical_hash_id_2.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/WithEventHashID/event_with_identical_hash_id_3.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/WithEventHashID/event_with_identical_hash_id_4.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/WithEventHashID/event_with_identical_hash_id_5.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/WithEventHashID/event_with_identical_hash_id_6.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/WithEventHashID/event_with_identical_hash_id_7.json", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/WithExtension/AggregationEvent.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/WithExtension/AssociationEvent.xml", Ok(&["goods.observed"])),
    ("gs1-EPCIS/XML/WithExtension/ObjectEvent.xml", Ok(&["goods.observed", "goods.observed"])),
    ("gs1-EPCIS/XML/WithExtension/TransactionEvent.xml", Ok(&["goods.observed"])),
    ("gs1-EPCIS/XML/WithExtension/TransformationEvent.xml", Ok(&["event.retracted"])),
    ("gs1-EPCIS/XML/WithFullCombinationOfFields/aggregation_event_all_possible_fields.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/WithFullCombinationOfFields/association_event_all_possible_fields.xml", Ok(&["goods.observed"])),
    ("gs1-EPCIS/XML/WithFullCombinationOfFields/masterdata_all_possible_fields.xml", Ok(&[])),
    ("gs1-EPCIS/XML/WithFullCombinationOfFields/object_event_all_possible_fields.xml", Ok(&["receipt.posted"])),
    ("gs1-EPCIS/XML/WithFullCombinationOfFields/transaction_event_all_possible_fields.xml", Ok(&["despatch.advised"])),
    ("gs1-EPCIS/XML/WithFullCombinationOfFields/transformation_event_all_possible_fields.xml", Ok(&["goods.observed"])),
    (
        "gs1-EPCIS/XML/WithSensorData/SensorDataExamples.xml",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
            "goods.observed",
        ]),
    ),
    ("gs1-EPCIS/epcis-context.jsonld", Err("type \"\" is not EPCISDocument, EPCISQueryDocument or an EPCIS")),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AggregationEvent.json", Ok(&["receipt.posted"])),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AggregationEvent_all_possible_fields.json",
        Ok(&["event.retracted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AggregationEvent_with_digitalLink.json",
        Ok(&["receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AggregationEvent_with_persistentDisposition.json",
        Ok(&["receipt.posted", "goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AggregationEvent_with_sensorData.json",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AggregationEvent_with_userExtensions.json",
        Ok(&["receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AssociationEvent.json",
        Ok(&["goods.observed", "goods.observed"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AssociationEvent_2.json", Ok(&["goods.observed"])),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AssociationEvent_all_possible_fields.json",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AssociationEvent_with_sensorData.json",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/AssociationEvent_with_userExtensions.json",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/Combination_of_different_event.json",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/CurieString_document.json", Ok(&["receipt.posted"])),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/JumbledFieldsOrder.json", Ok(&["despatch.advised"])),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/Namespaces_at_different_level.json",
        Ok(&["goods.observed", "goods.observed", "goods.observed", "goods.observed", "goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/ObjectEvent.json",
        Ok(&["goods.observed", "receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/ObjectEvent_all_possible_fields.json",
        Ok(&["event.retracted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/ObjectEvent_with_comment.json",
        Ok(&["goods.observed", "receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/ObjectEvent_with_custom_bizStep_uri.json",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/ObjectEvent_with_digitalLink.json",
        Ok(&["receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/ObjectEvent_with_error_declaration.json",
        Ok(&["event.retracted", "receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/ObjectEvent_with_persistentDisposition.json",
        Ok(&["receipt.posted", "goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/ObjectEvent_with_sensorData.json",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/ObjectEvent_with_userExtensions.json",
        Ok(&["goods.observed", "goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/SensorData_and_extension.json",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/SensorData_with_combined_events.json",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/TransactionEvent.json",
        Ok(&["goods.observed", "goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/TransactionEvent_all_possible_fields.json",
        Ok(&["event.retracted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/TransactionEvent_with_sensorData.json",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/TransactionEvent_with_userExtensions.json",
        Ok(&["goods.observed"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/TransformationEvent.json", Ok(&["goods.observed"])),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/TransformationEvent_all_possible_fields.json",
        Ok(&["event.retracted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/TransformationEvent_with_digitalLink.json",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/TransformationEvent_with_error_declaration.json",
        Ok(&["event.retracted", "goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/TransformationEvent_with_sensorData.json",
        Ok(&["event.retracted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/TransformationEvent_with_userExtensions.json",
        Ok(&["event.retracted"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/epcisDocWithAllGS1Keys.json", Ok(&["goods.observed"])),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/epcisDocWithSensorComponent.json",
        Ok(&["goods.observed"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Events/AggregationEvent.json", Ok(&["receipt.posted"])),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Events/AssociationEvent.json", Ok(&["goods.observed"])),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Events/ObjectEvent.json", Ok(&["receipt.posted"])),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Events/TransactionEvent.json", Ok(&["goods.observed"])),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Events/TransformationEvent.json", Ok(&["event.retracted"])),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/Combination_of_events_with_missing_mandatory_fields.json",
        Err("the event has no action (ADD, OBSERVE or DELETE)"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/Combination_of_multiple_invalid_fields.json",
        Err("\"transforming\" is not a CBV 2.0 business step: use one of ac"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/Combination_of_non_standard_bizStep_and_disposition.json",
        Err("\"transforming\" is not a CBV 2.0 business step: use one of ac"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/EPCISDocument_without_context.json",
        Err("the document has no @context; EPCIS 2.0 JSON-LD starts with "),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_with_ilmd_field_without_namespace.json",
        Err("ILMD field \"materialType\" has no namespace: write it as pref"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_with_invalid_action.json",
        Err("action \"CREATE\" is not ADD, OBSERVE or DELETE"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_with_invalid_certificationInfo.json",
        Err("gs1:certificationAuditDate \"wrong date format\" is not a date"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_with_invalid_eventTime_format.json",
        Err("eventTime \"22-07-2026\" is not a date-time such as 2005-04-03"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_with_non_standard_bizStep.json",
        Err("\"transforming\" is not a CBV 2.0 business step: use one of ac"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_with_non_standard_bizStep_in_second_event.json",
        Err("\"transforming\" is not a CBV 2.0 business step: use one of ac"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_with_non_standard_disposition.json",
        Err("\"in_transport\" is not a CBV 2.0 disposition: use one of acti"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_with_quantity_as_text.json",
        Err("quantity must be a number (such as 150 or 12.5), found the t"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_with_unknown_field_in_quantityList.json",
        Err("unknown field \"weight\" in a quantity element; expected epcCl"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_without_action_and_eventTime.json",
        Err("the event has no eventTime"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_without_identifier_list.json",
        Err("an ObjectEvent names its goods in epcList or quantityList; i"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Query/Combination_of_different_event.json",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Query/CurieString_document.json", Ok(&["receipt.posted"])),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Query/Invalid/QueryDocument_with_invalid_action.json",
        Err("action \"INVALIDACTION\" is not ADD, OBSERVE or DELETE"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Query/Invalid/QueryDocument_with_invalid_eventType.json",
        Err("\"ObjectEventInvalid\" is not an EPCIS event type; expected Ob"),
    ),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Query/JumbledFieldsOrder.json", Ok(&["despatch.advised"])),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Query/ObjectEventWithAllPossibleFields.json", Ok(&["event.retracted"])),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Query/Queries/Invalid/Query_with_invalid_values.json",
        Err("type \"\" is not EPCISDocument, EPCISQueryDocument or an EPCIS"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Query/Queries/Invalid/Query_with_unknown_parameter.json",
        Err("type \"\" is not EPCISDocument, EPCISQueryDocument or an EPCIS"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Query/Queries/SimpleEventQuery.json",
        Err("type \"\" is not EPCISDocument, EPCISQueryDocument or an EPCIS"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Query/QueryDocumentWithMultipleEvents.json",
        Ok(&["goods.observed", "receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Query/SensorData_with_combined_events.json",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Query/TransactionEvent_with_userExtensions.json",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/JSON/Query/TransformationEvent_with_error_declaration.json",
        Ok(&["event.retracted", "goods.observed"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/JSON/Query/queryDocument.json", Ok(&["goods.observed"])),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AggregationEvent.xml", Ok(&["receipt.posted"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AggregationEvent_all_possible_fields.xml",
        Ok(&["event.retracted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AggregationEvent_with_digitalLink.xml",
        Ok(&["receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AggregationEvent_with_persistentDisposition.xml",
        Ok(&["receipt.posted", "goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AggregationEvent_with_sensorData.xml",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AggregationEvent_with_userExtensions.xml",
        Ok(&["receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AssociationEvent.xml",
        Ok(&["goods.observed", "goods.observed"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AssociationEvent_2.xml", Ok(&["goods.observed"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AssociationEvent_all_possible_fields.xml",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AssociationEvent_with_sensorData.xml",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/AssociationEvent_with_userExtensions.xml",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/Combination_of_different_event.xml",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/CurieString_document.xml", Ok(&["receipt.posted"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/JumbledFieldsOrder.xml",
        Err("element <eventTimeZoneOffset> is out of order: the EPCIS sch"),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/Namespace_document.xml", Ok(&["goods.observed"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/Namespaces_at_different_level.xml",
        Ok(&["goods.observed", "goods.observed", "goods.observed", "goods.observed", "goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/ObjectEvent.xml",
        Ok(&["goods.observed", "receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/ObjectEvent_all_possible_fields.xml",
        Ok(&["event.retracted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/ObjectEvent_with_comment.xml",
        Ok(&["goods.observed", "receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/ObjectEvent_with_custom_bizStep_uri.xml",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/ObjectEvent_with_digitalLink.xml",
        Ok(&["receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/ObjectEvent_with_error_declaration.xml",
        Ok(&["event.retracted", "receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/ObjectEvent_with_sensorData.xml",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/ObjectEvent_with_userExtensions.xml",
        Ok(&["goods.observed", "goods.observed"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/SensorData_and_extension.xml", Ok(&["goods.observed"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/SensorData_with_combined_events.xml",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/TransactionEvent.xml",
        Ok(&["goods.observed", "goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/TransactionEvent_all_possible_fields.xml",
        Ok(&["event.retracted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/TransactionEvent_with_sensorData.xml",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/TransactionEvent_with_userExtensions.xml",
        Ok(&["goods.observed"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/TransformationEvent.xml", Ok(&["goods.observed"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/TransformationEvent_all_possible_fields.xml",
        Ok(&["event.retracted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/TransformationEvent_with_errorDeclaration.xml",
        Ok(&["event.retracted", "goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/TransformationEvent_with_sensorData.xml",
        Ok(&["event.retracted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/TransformationEvent_with_userExtensions.xml",
        Ok(&["event.retracted"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/epcisDocWithAllGS1Keys.xml", Ok(&["goods.observed"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Documents/epcisDocWithSensorComponent.xml",
        Ok(&["goods.observed"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Events/AggregationEvent.xml", Ok(&["receipt.posted"])),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Events/AssociationEvent.xml", Ok(&["goods.observed"])),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Events/Namespace_event.xml", Ok(&["goods.observed"])),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Events/ObjectEvent.xml", Ok(&["receipt.posted"])),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Events/TransactionEvent.xml", Ok(&["goods.observed"])),
    ("openepcis-test-resources/2.0/EPCIS/XML/Capture/Events/TransformationEvent.xml", Ok(&["event.retracted"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_bare_event_without_action.xml",
        Err("the ObjectEvent has no <action> (ADD, OBSERVE or DELETE)"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_with_invalid_action.xml",
        Err("action \"CREATE\" is not ADD, OBSERVE or DELETE"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_with_invalid_eventTime_format.xml",
        Err("eventTime \"22-07-2026\" is not a date-time such as 2005-04-03"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_with_near_miss_action.xml",
        Err("action \"OBSERV\" is not ADD, OBSERVE or DELETE"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_with_unknown_element.xml",
        Err("unknown element <madeUpField> in ObjectEvent; user extension"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_with_wrong_element_order.xml",
        Err("element <eventTime> is out of order: the EPCIS schema puts i"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_without_eventTime.xml",
        Err("the ObjectEvent has no <eventTime>"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/Combination_of_different_event.xml",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Query/CurieString_document.xml", Ok(&["receipt.posted"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/Documents/QueryResultsDocument.xml",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/Documents/TransactionEvent_with_userExtensions.xml",
        Ok(&["goods.observed"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/Invalid/QueryDocument_with_invalid_action.xml",
        Err("action \"INVALIDACTION\" is not ADD, OBSERVE or DELETE"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/Invalid/QueryDocument_with_invalid_eventType.xml",
        Err("<ObjectEventInvalid> is not an EPCIS 2.0 event; expected Obj"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/Invalid/QueryDocument_with_missing_value.xml",
        Err("the query document has no EventList"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/JumbledFieldsOrder.xml",
        Err("element <eventTimeZoneOffset> is out of order: the EPCIS sch"),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Query/ObjectEventWithAllPossibleFields.xml", Ok(&["event.retracted"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/Queries/Invalid/Query_without_queryName.xml",
        Err("the query document has no EventList"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/Queries/SimpleEventQuery.xml",
        Err("the query document has no EventList"),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/QueryDocumentWithMultipleEvents.xml",
        Ok(&["goods.observed", "receipt.posted"]),
    ),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/SensorData_with_combined_events.xml",
        Ok(&[
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "goods.observed",
            "event.retracted",
            "goods.observed",
        ]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Query/TransactionEvent_with_userExtensions.xml", Ok(&["goods.observed"])),
    (
        "openepcis-test-resources/2.0/EPCIS/XML/Query/TransformationEvent_with_error_declaration.xml",
        Ok(&["event.retracted", "goods.observed"]),
    ),
    ("openepcis-test-resources/2.0/EPCIS/XML/Query/queryDocument.xml", Ok(&["goods.observed"])),
];

#[test]
fn every_sample_is_read_or_refused_for_its_reason() {
    let files = sample_files();
    let listed: Vec<&str> = SAMPLES.iter().map(|(f, _)| *f).collect();
    for f in &files {
        assert!(listed.contains(&f.as_str()), "sample {f} has no expectation");
    }
    for (rel, expected) in SAMPLES {
        let result = parse(&read(rel), &cx());
        match (expected, result) {
            (Ok(types), Ok(p)) => {
                let got: Vec<&str> = p.events.iter().map(|e| e.event_type.as_str()).collect();
                assert_eq!(&got, types, "{rel}");
                for e in &p.events {
                    assert!(e.source == "epcis" || e.source.starts_with("epcis/"), "{rel}: {}", e.source);
                }
            }
            (Err(reason), Err(e)) => {
                let first = e.problems.first().map(|p| p.message.as_str()).unwrap_or("");
                assert!(first.starts_with(reason), "{rel}: expected {reason:?}, got {e}");
            }
            (Ok(_), Err(e)) => panic!("{rel} was refused: {e}"),
            (Err(reason), Ok(_)) => panic!("{rel} was accepted, expected {reason:?}"),
        }
    }
}

#[test]
fn parsing_twice_gives_the_same_events() {
    for (rel, expected) in SAMPLES {
        if expected.is_ok() {
            assert_eq!(ok(rel).events, ok(rel).events, "{rel}");
        }
    }
}

#[test]
fn receiving_object_event_becomes_a_goods_receipt() {
    let p = ok("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/ObjectEvent.json");
    let e = &p.events[1];
    assert_eq!(
        e.occurred_at,
        chrono::Utc.with_ymd_and_hms(2005, 4, 5, 2, 33, 31).unwrap() + chrono::Duration::milliseconds(116)
    );
    let EventPayload::GoodsReceipt(r) = &e.payload else { panic!("{e:?}") };
    assert_eq!(r.location.as_str(), "urn:epc:id:sgln:0012345.11111.0");
    assert_eq!(r.po_number.as_ref().map(|n| n.as_str()), Some("http://transaction.acme.com/po/12345678"));
    assert_eq!(r.despatch_advice.as_ref().map(|n| n.as_str()), Some("urn:epcglobal:cbv:bt:0614141073467:1152"));
    assert_eq!(r.lines.len(), 1);
    assert_eq!(r.lines[0].item.gtin.as_ref().map(|g| g.0.as_str()), Some("10614141073464"));
    assert_eq!(r.lines[0].received.value, Decimal::ONE);
    assert_eq!(r.lines[0].received.unit.as_str(), "EA");
    // The first event (shipping, no destination) is an observation naming its documents.
    let EventPayload::GoodsObservation(o) = &p.events[0].payload else { panic!() };
    assert_eq!(o.business_step.as_deref(), Some("shipping"));
    assert_eq!(o.disposition.as_deref(), Some("in_transit"));
    assert_eq!(o.items.len(), 1);
    assert_eq!(o.items[0].quantity.value, Decimal::TWO);
    assert_eq!(o.documents, vec!["po:http://transaction.acme.com/po/12345678".to_owned()]);
}

#[test]
fn class_quantities_and_instances_are_counted_per_gtin() {
    let p = ok("gs1-EPCIS/XML/WithEventHashID/event_with_identical_hash_id_1.xml");
    let EventPayload::GoodsReceipt(r) = &p.events[0].payload else { panic!() };
    let lines: Vec<(String, String, String)> = r
        .lines
        .iter()
        .map(|l| (l.item.gtin.clone().unwrap().0, l.received.value.to_string(), l.received.unit.0.clone()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("10614141073464".to_owned(), "3".to_owned(), "EA".to_owned()),
            ("04012345123456".to_owned(), "500".to_owned(), "KGM".to_owned()),
        ]
    );
    assert_eq!(r.supplier.as_ref().map(|s| s.as_str()), Some("urn:epc:id:pgln:4012345.00225"));
    assert_eq!(r.po_number.as_ref().map(|s| s.as_str()), Some("urn:epc:id:gdti:0614141.00001.1618034"));
    // No eventID: the event hash is the id.
    assert!(p.events[0].id.starts_with("ni:///sha-256;"), "{}", p.events[0].id);
}

#[test]
fn shipping_with_destination_becomes_a_despatch_advice() {
    let p = ok("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Documents/JumbledFieldsOrder.json");
    let EventPayload::DespatchAdvice(d) = &p.events[0].payload else { panic!("{:?}", p.events[0]) };
    assert_eq!(d.ship_to.as_str(), "urn:epc:id:sgln:0614141.00777.0");
    assert_eq!(d.ship_from.as_ref().map(|l| l.as_str()), Some("urn:epc:id:sgln:0614141.00888.0"));
    assert_eq!(d.po_number.as_ref().map(|l| l.as_str()), Some("urn:epc:id:gdti:0614141.00001.1618034"));
    let lines: Vec<(String, String)> =
        d.lines.iter().map(|l| (l.item.gtin.clone().unwrap().0, l.quantity.value.to_string())).collect();
    assert_eq!(d.lines.len(), 2);
    assert_eq!(lines[0].0, "10614141073464");
    assert_eq!(d.lines[0].quantity.value, Decimal::TWO);
    assert_eq!(lines[1].0, "04012345111118");
    assert_eq!(d.lines[1].quantity.value, Decimal::TEN);
    assert_eq!(d.lines[1].quantity.unit.as_str(), "KGM");
}

#[test]
fn digital_links_name_the_same_gtins_as_urns() {
    let urn = ok("gs1-EPCIS/JSON/Example_9.6.1-ObjectEvent.jsonld");
    let link = ok("gs1-EPCIS/JSON/WithDigitalLinkID/Example_9.6.1-ObjectEventWithDigitalLink.jsonld");
    let items = |p: &Parsed| -> Vec<String> {
        p.events.iter().flat_map(|e| e.subject.items.iter().map(|i| i.0.clone())).collect()
    };
    // The Digital Link rendering of the example uses other company data; both resolve to valid GTINs.
    assert_eq!(items(&urn), vec!["10614141073464".to_owned(), "10614141073464".to_owned()]);
    assert_eq!(items(&link), vec!["70614141123451".to_owned(), "70614141123451".to_owned()]);
}

#[test]
fn error_declarations_retract_the_event() {
    let p = ok("gs1-EPCIS/JSON/WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld");
    let EventPayload::EventRetraction(r) = &p.events[0].payload else { panic!() };
    assert_eq!(p.events[0].id, format!("{}#retraction", r.retracted_event));
    assert_eq!(r.reason.as_deref(), Some("incorrect_data"));
    assert_eq!(r.corrective_events.len(), 1);
    assert_eq!(p.events[1].id, r.corrective_events[0]);
}

#[test]
fn json_and_xml_twins_give_the_same_events() {
    let dir = "openepcis-test-resources/2.0/EPCIS";
    let mut compared = 0;
    let mut differing = Vec::new();
    for sub in ["Capture/Documents", "Capture/Events"] {
        for entry in std::fs::read_dir(format!("{DATA}/{dir}/JSON/{sub}")).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let stem = name.trim_end_matches(".json");
            let xml = format!("{dir}/XML/{sub}/{stem}.xml");
            let known_difference = TWINS_DIFFER.contains(&stem)
                && !(sub == "Capture/Documents" && matches!(stem, "TransactionEvent" | "TransformationEvent"));
            if !std::path::Path::new(&format!("{DATA}/{xml}")).exists() || known_difference {
                continue;
            }
            // The JSON documents name a sender the XML ones do not: compare with one source.
            let cx = Context { source: Some("wms".into()), ..cx() };
            let (Ok(j), Ok(x)) = (parse(&read(&format!("{dir}/JSON/{sub}/{name}")), &cx), parse(&read(&xml), &cx))
            else {
                continue;
            };
            if j.raw_events() != x.raw_events() {
                differing.push(stem.to_owned());
            }
            compared += 1;
        }
    }
    assert!(differing.is_empty(), "JSON and XML twins differ: {differing:?}");
    assert!(compared >= 20, "only {compared} twins compared");
}

/// Twins whose JSON and XML renderings are not the same event in the samples themselves.
const TWINS_DIFFER: &[&str] = &[
    // JSON writes one SSCC as a Digital Link, XML as a URN (other ids are kept as written).
    "epcisDocWithAllGS1Keys",
    // JSON writes the GRAI as a Digital Link on another host, XML as a URN.
    "epcisDocWithSensorComponent",
    // An extension array value is the text "23.0" in JSON and the number 23 in XML.
    "AssociationEvent_all_possible_fields",
    // The error declaration times differ by one hour between the renderings.
    "Combination_of_different_event",
    // XML declares `example` without the trailing slash JSON's context has, so names differ.
    "SensorData_with_combined_events",
    // JSON uses the `cbvmda:` prefix in ILMD without defining it in @context.
    "TransformationEvent_with_userExtensions",
    // Capture/Events: XML has an empty rail:vehicleMasterGIAI element the JSON omits.
    "TransactionEvent",
    // Capture/Events: the error declaration times differ by one hour between the renderings.
    "TransformationEvent",
];

#[test]
fn renderings_of_one_event_give_one_hash() {
    let dir = "gs1-EPCIS/XML/WithEventHashID";
    let hashes: Vec<String> = (1..=7)
        .map(|i| {
            let ext = if i == 7 { "json" } else { "xml" };
            let h = epcis::event_hash(&read(&format!("{dir}/event_with_identical_hash_id_{i}.{ext}"))).unwrap();
            assert_eq!(h.len(), 1);
            h[0].clone()
        })
        .collect();
    for (i, h) in hashes.iter().enumerate() {
        if i != 1 {
            assert_eq!(h, &hashes[0], "rendering {}", i + 1);
        }
    }
    // Rendering 2 writes eventTimeZoneOffset -05:00 instead of -06:00 (same instant). The
    // algorithm hashes eventTimeZoneOffset as written, so that is the only component that differs.
    assert_ne!(hashes[1], hashes[0]);
    let pre = |i: usize| {
        let ext = if i == 7 { "json" } else { "xml" };
        epcis::event_pre_hash(&read(&format!("{dir}/event_with_identical_hash_id_{i}.{ext}"))).unwrap().remove(0)
    };
    assert_eq!(pre(2).replace("eventTimeZoneOffset=-05:00", "eventTimeZoneOffset=-06:00"), pre(1));
}

#[test]
fn hash_matches_the_published_reference_value() {
    // The single-event example of the reference implementation of the CBV 2.0 event hash
    // algorithm, with its published hash.
    let doc = br#"{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"gs1":"https://gs1.org/voc/"}],
      "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2022-02-17T11:30:47.0Z",
      "epcisBody":{"eventList":[{"type":"ObjectEvent","action":"OBSERVE","bizStep":"shipping","disposition":"in_transit",
        "epcList":["urn:epc:id:sgtin:0614141.107346.2017","urn:epc:id:sgtin:0614141.107346.2018"],
        "eventTime":"2022-02-16T20:33:31.116000-06:00","eventTimeZoneOffset":"-06:00",
        "readPoint":{"id":"urn:epc:id:sgln:0614141.07346.1234"},
        "bizTransactionList":[{"type":"po","bizTransaction":"http://transaction.acme.com/po/12345678"}]}]}}"#;
    assert_eq!(
        epcis::event_hash(doc).unwrap(),
        vec!["ni:///sha-256;3e0f2437f4cb5e8a1b832b769c0eed1bf3e1421f14061132e9800ded03f10182?ver=CBV2.0".to_owned()]
    );
}

#[test]
fn cbv_values_are_accepted_in_every_spelling() {
    let doc = |step: &str| {
        format!(
            r#"{{"@context":"https://ref.gs1.org/standards/epcis/epcis-context.jsonld","type":"ObjectEvent",
            "eventTime":"2024-01-01T10:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE",
            "epcList":["urn:epc:id:sgtin:0614141.107346.1"],"bizStep":"{step}","bizLocation":{{"id":"urn:epc:id:sgln:0614141.00777.0"}}}}"#
        )
    };
    for step in [
        "receiving",
        "https://ref.gs1.org/cbv/BizStep-receiving",
        "cbv:BizStep-receiving",
        "urn:epcglobal:cbv:bizstep:receiving",
    ] {
        let p = parse(doc(step).as_bytes(), &cx()).unwrap();
        assert_eq!(p.events[0].event_type.as_str(), "receipt.posted", "{step}");
    }
    let p = parse(doc("https://example.com/steps/quality_check").as_bytes(), &cx()).unwrap();
    let EventPayload::GoodsObservation(o) = &p.events[0].payload else { panic!() };
    assert_eq!(o.business_step.as_deref(), Some("https://example.com/steps/quality_check"));
}

#[test]
fn problems_carry_line_column_and_path() {
    let e = parse(&read("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/ObjectEvent_with_non_standard_bizStep_in_second_event.json"), &cx())
        .unwrap_err();
    assert_eq!(
        e.problems[0].location,
        Location::Text { line: 27, column: 14, path: "$.epcisBody.eventList[1].bizStep".into() }
    );
    let e = parse(
        &read("openepcis-test-resources/2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_with_invalid_action.xml"),
        &cx(),
    )
    .unwrap_err();
    assert_eq!(
        e.problems[0].location,
        Location::Text {
            line: 12,
            column: 17,
            path: "/epcis:EPCISDocument/EPCISBody/EventList/ObjectEvent/action".into()
        }
    );
    // Every problem of a document is reported.
    let e = parse(
        &read("openepcis-test-resources/2.0/EPCIS/JSON/Capture/Invalid/Combination_of_multiple_invalid_fields.json"),
        &cx(),
    )
    .unwrap_err();
    let paths: Vec<String> = e
        .problems
        .iter()
        .map(|p| match &p.location {
            Location::Text { path, .. } => path.clone(),
            other => other.to_string(),
        })
        .collect();
    for expected in [
        "$.epcisBody.eventList[0].bizStep",
        "$.epcisBody.eventList[1].disposition",
        "$.epcisBody.eventList[2].sourceList[0].type",
        "$.epcisBody.eventList[3].ilmd.materialType",
        "$.epcisBody.eventList[4].eventTime",
        "$.epcisBody.eventList[4].action",
    ] {
        assert!(paths.iter().any(|p| p == expected), "{expected} not in {paths:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = epcis::parse_json(&bytes, &cx());
        let _ = epcis::parse_xml(&bytes, &cx());
        let _ = epcis::event_hash(&bytes);
    }

    #[test]
    fn mutated_samples_never_panic(index in 0usize..SAMPLES.len(), at in any::<usize>(), byte in any::<u8>(), cut in any::<bool>()) {
        let mut bytes = read(SAMPLES[index].0);
        if !bytes.is_empty() {
            let i = at % bytes.len();
            if cut { bytes.truncate(i) } else { bytes[i] = byte }
        }
        let _ = parse(&bytes, &cx());
        let _ = epcis::parse_json(&bytes, &cx());
        let _ = epcis::parse_xml(&bytes, &cx());
    }
}
