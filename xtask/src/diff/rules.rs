//! Every rule of the change report, in one table: its id (as oasdiff names
//! its checks), the levels it can have, what it means in Rust, and the test
//! that shows it (`cargo xtask diff --rules` prints it, for
//! `docs/maintaining.md`'s readers; a test fails when a rule names no test that mentions its id).

use super::Level::{self, Breaking, Compatible, Docs, Warning};

/// One rule of the change report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportRule {
    /// The id reports print (`response-enum-value-added`).
    pub id: &'static str,
    /// The levels it reports at (some depend on where the change is).
    pub levels: &'static [Level],
    /// What it means for users of the generated Rust.
    pub doc: &'static str,
    /// The test that shows it: `file::function` under `xtask/tests/`.
    pub test: &'static str,
}

macro_rules! rules {
    ($($name:ident = $id:literal, [$($level:ident),+], $doc:literal, $test:literal;)+) => {
        $(
            #[doc = $doc]
            pub const $name: ReportRule = ReportRule { id: $id, levels: &[$($level),+], doc: $doc, test: $test };
        )+
        /// Every rule, in the order of the table.
        pub const RULES: &[ReportRule] = &[$($name),+];
    };
}

rules! {
    OPERATION_ADDED = "operation-added", [Compatible],
        "A new operation: a new client method.", "rules::operation_added_and_removed";
    OPERATION_REMOVED = "operation-removed", [Breaking],
        "An operation is gone: its client method and its error-body enum are removed.", "rules::operation_added_and_removed";
    OPERATION_NOT_GENERATABLE = "operation-not-generatable", [Breaking],
        "The generator cannot generate an operation it could, or a new one (a request body of two media types, a content type it does not send, a body without schema, a success of two kinds): the crate cannot be regenerated from the new spec until the overlay settles it.", "rules::media_types_added_and_removed";
    OPERATION_ID_CHANGED = "operation-id-changed", [Breaking],
        "The operation's id changed: its client method is renamed.", "rules::operation_id_changed";
    RESPONSE_SUCCESS_STATUS_CHANGED = "response-success-status-changed", [Warning, Breaking],
        "The documented success status changed: between two 2xx a warning (any 2xx is a success; which one is drift changes), breaking when no 2xx is left.", "rules::response_success_status_changed";
    SECURITY_REQUIREMENTS_CHANGED = "security-requirements-changed", [Breaking],
        "The credentials an operation asks for changed (compared by header, not by scheme name).", "rules::security_schemes";
    REQUEST_BODY_REMOVED = "request-body-removed", [Breaking],
        "The request body is gone: the builder's `.body()` goes.", "rules::request_bodies";
    NEW_REQUIRED_REQUEST_BODY = "new-required-request-body", [Breaking],
        "A required request body where there was none: every call must now set it.", "rules::request_bodies";
    NEW_OPTIONAL_REQUEST_BODY = "new-optional-request-body", [Compatible],
        "An optional request body where there was none.", "rules::request_bodies";
    REQUEST_BODY_BECAME_REQUIRED = "request-body-became-required", [Breaking],
        "The request body became required.", "rules::request_bodies";
    REQUEST_BODY_ADDED = "request-body-added", [Breaking],
        "A request body gained content where it had none: the builder's body type changes.", "rules::bodies_gain_and_lose_content";
    RESPONSE_BODY_ADDED = "response-body-added", [Compatible],
        "A response gained a body where it had none.", "rules::bodies_gain_and_lose_content";
    RESPONSE_BODY_REMOVED = "response-body-removed", [Breaking],
        "A response lost its body: the success type changes.", "rules::bodies_gain_and_lose_content";
    REQUEST_MEDIA_TYPE_ADDED = "request-media-type-added", [Compatible],
        "A request body accepts one more media type.", "rules::media_types_added_and_removed";
    REQUEST_MEDIA_TYPE_REMOVED = "request-media-type-removed", [Breaking],
        "A request body no longer accepts a media type.", "rules::every_media_type_is_compared";
    RESPONSE_MEDIA_TYPE_ADDED = "response-media-type-added", [Compatible],
        "A response may come in one more media type.", "rules::media_types_added_and_removed";
    RESPONSE_MEDIA_TYPE_REMOVED = "response-media-type-removed", [Breaking],
        "A response no longer comes in a media type.", "rules::media_types_added_and_removed";
    ERROR_RESPONSE_ADDED = "error-response-added", [Compatible],
        "A documented error status: a new variant of the non-exhaustive error-body enum.", "rules::error_bodies_are_compared";
    ERROR_RESPONSE_REMOVED = "error-response-removed", [Breaking],
        "An error status no longer documented: its error-body variant is gone.", "rules::error_bodies_are_compared";
    ERROR_BODY_TYPE_CHANGED = "error-body-type-changed", [Breaking],
        "An error-body variant holds another type (`CreateCallErrorBody::Status401` now holds `Unauthorized`).", "vendor_changes::the_vendors_own_error_bodies_win_where_our_overlay_filled_a_gap";
    REQUEST_PARAMETER_REMOVED = "request-parameter-removed", [Breaking],
        "A parameter is gone: its builder method goes.", "rules::parameters";
    REQUEST_PARAMETER_BECAME_REQUIRED = "request-parameter-became-required", [Breaking],
        "A parameter became required: every call must now set it.", "rules::parameters";
    NEW_REQUIRED_REQUEST_PARAMETER = "new-required-request-parameter", [Breaking],
        "A new required parameter (path-level ones count).", "rules::path_level_parameters_count";
    NEW_OPTIONAL_REQUEST_PARAMETER = "new-optional-request-parameter", [Compatible],
        "A new optional parameter: a new builder method.", "rules::parameters";
    REQUEST_PROPERTY_TYPE_CHANGED = "request-property-type-changed", [Breaking],
        "A request field's type changed: its Rust type changes.", "rules::property_types_change";
    RESPONSE_PROPERTY_TYPE_CHANGED = "response-property-type-changed", [Breaking],
        "A response field's type changed (a widening to one of two types too): its Rust type changes.", "rules::property_types_change";
    PROPERTY_FORMAT_CHANGED = "property-format-changed", [Docs],
        "A field's format changed and the generator makes the same Rust type of both (`integer` and `integer (int64)` are both `i64`).", "rules::a_format_that_keeps_the_rust_type_is_docs_only";
    REQUEST_PROPERTY_BECAME_NULLABLE = "request-property-became-nullable", [Breaking, Compatible],
        "A request field accepts null: breaking when required (`T` becomes `Option<T>`), else compatible.", "rules::a_required_request_field_that_becomes_nullable_is_breaking";
    REQUEST_PROPERTY_BECAME_NOT_NULLABLE = "request-property-became-not-nullable", [Breaking],
        "A request field no longer accepts null.", "rules::nullability";
    RESPONSE_PROPERTY_NULLABILITY_CHANGED = "response-property-nullability-changed", [Docs],
        "An optional response field's nullability changed: an `Option` either way.", "rules::nullability";
    RESPONSE_PROPERTY_BECAME_NULLABLE = "response-property-became-nullable", [Breaking],
        "A required response field may be null: its Rust type becomes `Option`.", "rules::nullability";
    RESPONSE_PROPERTY_BECAME_NOT_NULLABLE = "response-property-became-not-nullable", [Breaking],
        "A required response field is no longer nullable: its Rust type loses `Option`.", "rules::nullability";
    PROPERTY_DEFAULT_CHANGED = "property-default-changed", [Warning],
        "A `default` added, removed or changed: the Rust type stays `Option<T>`; what the server does when it is left out changes.", "rules::a_default_changes_no_rust_type_and_is_a_warning";
    REQUEST_ENUM_VALUE_REMOVED = "request-enum-value-removed", [Breaking],
        "A request enum lost a value: its Rust variant disappears.", "rules::request_enum_values_removed";
    RESPONSE_ENUM_VALUE_REMOVED = "response-enum-value-removed", [Breaking],
        "A response enum lost a value: its Rust variant disappears.", "rules::response_enum_value_removed";
    REQUEST_ENUM_VALUE_ADDED = "request-enum-value-added", [Breaking, Compatible],
        "A request enum gained a value: breaking for a closed (request-only) enum, compatible for an open one.", "rules::request_enum_value_added_is_breaking_for_a_closed_enum";
    RESPONSE_ENUM_VALUE_ADDED = "response-enum-value-added", [Warning],
        "A response enum gained a value: it came back as `Unknown(..)` and now as a variant.", "rules::response_enum_value_added_is_a_warning";
    ENUM_VALUE_RESPELLED = "enum-value-respelled", [Breaking, Warning],
        "A value respelled on the wire with the same Rust variant name: code compiles, and the old spelling now parses as `Unknown(..)` (breaking for request enums).", "vendor_changes::values_respelled_with_the_same_rust_name_are_said_in_those_words";
    PROPERTY_BECAME_ENUM = "property-became-enum", [Breaking],
        "A field became an enum: its Rust type changes.", "rules::enums_appear_and_go";
    PROPERTY_NO_LONGER_ENUM = "property-no-longer-enum", [Breaking],
        "A field is no longer an enum: its Rust type changes.", "rules::enums_appear_and_go";
    REQUEST_PROPERTY_PATTERN_ADDED = "request-property-pattern-added", [Breaking],
        "A request field gained a pattern: values accepted before may be refused.", "rules::patterns";
    REQUEST_PROPERTY_PATTERN_CHANGED = "request-property-pattern-changed", [Warning],
        "A request field's pattern changed: it cannot be proven looser.", "rules::patterns";
    REQUEST_PROPERTY_PATTERN_REMOVED = "request-property-pattern-removed", [Compatible],
        "A request field lost its pattern.", "rules::patterns";
    REQUEST_PROPERTY_MAX_LENGTH = "request-property-max-length", [Breaking, Compatible],
        "`maxLength` tightened (breaking) or loosened.", "rules::string_and_object_limits";
    REQUEST_PROPERTY_MIN_LENGTH = "request-property-min-length", [Breaking, Compatible],
        "`minLength` tightened (breaking) or loosened.", "rules::string_and_object_limits";
    REQUEST_PROPERTY_MAXIMUM = "request-property-maximum", [Breaking, Compatible],
        "`maximum` tightened (breaking) or loosened.", "rules::string_and_object_limits";
    REQUEST_PROPERTY_MINIMUM = "request-property-minimum", [Breaking, Compatible],
        "`minimum` tightened (breaking) or loosened.", "rules::string_and_object_limits";
    REQUEST_PROPERTY_MAX_ITEMS = "request-property-max-items", [Breaking, Compatible],
        "`maxItems` tightened (breaking) or loosened.", "rules::numeric_and_array_rules_tighten_and_loosen";
    REQUEST_PROPERTY_MIN_ITEMS = "request-property-min-items", [Breaking, Compatible],
        "`minItems` tightened (breaking) or loosened.", "rules::numeric_and_array_rules_tighten_and_loosen";
    REQUEST_PROPERTY_MAX_PROPERTIES = "request-property-max-properties", [Breaking, Compatible],
        "`maxProperties` tightened (breaking) or loosened.", "rules::string_and_object_limits";
    REQUEST_PROPERTY_MIN_PROPERTIES = "request-property-min-properties", [Breaking, Compatible],
        "`minProperties` tightened (breaking) or loosened.", "rules::string_and_object_limits";
    REQUEST_PROPERTY_EXCLUSIVE_MINIMUM = "request-property-exclusive-minimum", [Breaking, Compatible],
        "`exclusiveMinimum` set (breaking) or cleared.", "rules::numeric_and_array_rules_tighten_and_loosen";
    REQUEST_PROPERTY_EXCLUSIVE_MAXIMUM = "request-property-exclusive-maximum", [Breaking, Compatible],
        "`exclusiveMaximum` set (breaking) or cleared.", "rules::numeric_and_array_rules_tighten_and_loosen";
    REQUEST_PROPERTY_UNIQUE_ITEMS = "request-property-unique-items", [Breaking, Compatible],
        "`uniqueItems` set (breaking: a `Vec` becomes a set) or cleared.", "rules::unique_items_is_a_rule_and_changes_the_rust_type";
    REQUEST_PROPERTY_MULTIPLE_OF = "request-property-multiple-of", [Breaking, Compatible],
        "`multipleOf` changed: looser only when the new step divides the old one.", "rules::numeric_and_array_rules_tighten_and_loosen";
    SCHEMA_COMPOSITION_CHANGED = "schema-composition-changed", [Breaking],
        "`oneOf`/`anyOf`/`allOf` members added or removed: the generated enum or struct changes.", "rules::composition_members_are_compared";
    SCHEMA_COMPOSITION_REORDERED = "schema-composition-reordered", [Docs],
        "`oneOf`/`anyOf`/`allOf` members reordered, each paired with itself by its component or discriminator value: the generated type keeps its variants.", "rules::reordered_members_are_the_same_members";
    REQUEST_PROPERTY_REMOVED = "request-property-removed", [Breaking],
        "A request field is gone: its builder method goes.", "rules::properties_come_and_go";
    RESPONSE_PROPERTY_REMOVED = "response-property-removed", [Breaking],
        "A response field is gone: its Rust field goes.", "rules::properties_come_and_go";
    REQUEST_PROPERTY_BECAME_REQUIRED = "request-property-became-required", [Breaking],
        "A request field became required: its Rust type loses `Option`.", "rules::properties_come_and_go";
    RESPONSE_PROPERTY_BECAME_REQUIRED = "response-property-became-required", [Breaking],
        "A response field became required: its Rust type loses `Option`.", "rules::properties_come_and_go";
    REQUEST_PROPERTY_BECAME_OPTIONAL = "request-property-became-optional", [Breaking],
        "A request field became optional: its Rust type becomes `Option`.", "rules::properties_come_and_go";
    RESPONSE_PROPERTY_BECAME_OPTIONAL = "response-property-became-optional", [Breaking],
        "A response field became optional: its Rust type becomes `Option`.", "rules::properties_come_and_go";
    NEW_REQUIRED_REQUEST_PROPERTY = "new-required-request-property", [Breaking],
        "A new required request field: every request must now set it.", "rules::properties_come_and_go";
    NEW_OPTIONAL_REQUEST_PROPERTY = "new-optional-request-property", [Compatible],
        "A new optional request field (structs are non-exhaustive: builders need no change).", "rules::properties_come_and_go";
    RESPONSE_PROPERTY_ADDED = "response-property-added", [Compatible],
        "A new response field (structs are non-exhaustive).", "rules::properties_come_and_go";
    TYPE_RENAMED_AT_PLACE = "type-renamed-at-place", [Breaking],
        "The type at a place of the API has another Rust name (compared by place, not by component name).", "vendor_changes::schemas_moved_into_components_are_compared_at_their_place";
    TYPE_ADDED = "type-added", [Compatible],
        "A new Rust type, at a new place of the API.", "rules::types_at_places_come_and_go";
    TYPE_REMOVED = "type-removed", [Breaking],
        "A Rust type is gone: no place of the API has it any more.", "rules::types_at_places_come_and_go";
    TYPE_FORM_CHANGED = "type-form-changed", [Breaking, Warning],
        "Where the API uses a type changed how it is generated: a string enum a response now carries is generated open (`Unknown` added: a `match` without a wildcard stops compiling), one no response carries any more closed (`Unknown` removed): breaking. An object only responses now use keeps the fields the spec does not know (`extra`) and reads a mistyped optional field as absent: a warning; one that loses that (a request uses it now, or no response does): breaking.", "rules::where_a_type_is_used_changes_how_it_is_generated";
    COMPONENT_ADDED = "component-added", [Compatible],
        "A new component no operation uses: a new Rust type.", "rules::components_added_removed_and_renamed_are_reported";
    COMPONENT_REMOVED = "component-removed", [Breaking],
        "A component no operation used is gone: its Rust type goes.", "rules::components_added_removed_and_renamed_are_reported";
    COMPONENT_RENAMED = "component-renamed", [Breaking],
        "A component no operation uses, renamed (same shape): its Rust type is renamed.", "rules::components_added_removed_and_renamed_are_reported";
    SECURITY_SCHEME_ADDED = "security-scheme-added", [Compatible],
        "A new security scheme.", "rules::security_schemes";
    SECURITY_SCHEME_REMOVED = "security-scheme-removed", [Breaking],
        "A security scheme is gone (and no scheme sends the same header).", "rules::security_schemes";
    SECURITY_SCHEME_CHANGED = "security-scheme-changed", [Breaking],
        "The API-key header (or scheme type) changed: the client sends the key where the API no longer reads it.", "rules::the_api_key_header_and_the_default_base_url_are_compared";
    SECURITY_SCHEME_RENAMED = "security-scheme-renamed", [Compatible],
        "A security scheme renamed with the same header: nothing changes for the client.", "vendor_changes::values_respelled_with_the_same_rust_name_are_said_in_those_words";
    SERVER_URL_CHANGED = "server-url-changed", [Warning],
        "The default base URL (`DEFAULT_BASE_URL`) changed.", "rules::the_api_key_header_and_the_default_base_url_are_compared";
    OVERLAY_CORRECTION_STALE = "overlay-correction-stale", [Warning],
        "One of our corrections matches nothing in the new document: remove or retarget it (update-spec refuses until then).", "vendor_changes::an_older_document_the_overlay_does_not_fit_compares_and_the_stale_correction_is_a_finding";
    OVERLAY_GAP_FILLED_BY_VENDOR = "overlay-gap-filled-by-vendor", [Compatible],
        "The vendor now documents what one of our gap-filling actions filled: ours steps aside.", "vendor_changes::the_vendors_own_error_bodies_win_where_our_overlay_filled_a_gap";
    UNCLASSIFIED_SURFACE_CHANGE = "unclassified-surface-change", [Breaking],
        "The generated API changed and no rule explains it (the report fails closed).", "rules::a_surface_change_no_rule_explains_is_breaking";
    SPEC_TEXT_CHANGED = "spec-text-changed", [Docs],
        "Only text changed (descriptions, examples): the generated surface is identical.", "rules::docs_only_means_the_surface_is_identical";
}

/// The registry as a Markdown table (what `--rules` prints).
pub fn markdown() -> String {
    let mut out = String::from("| rule | level | what it means |\n|---|---|---|\n");
    for rule in RULES {
        let levels: Vec<String> = rule
            .levels
            .iter()
            .map(|l| format!("{l:?}").to_lowercase())
            .collect();
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            rule.id,
            levels.join(" or "),
            rule.doc
        ));
    }
    out
}
