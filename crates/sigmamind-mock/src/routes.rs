//! Which operation of the spec a request is for, with the values of its
//! path parameters.

use http::Method;
use serde_json::Value;

use super::spec::deref;

/// An operation of the spec, matched to a request.
#[derive(Debug, Clone)]
pub(crate) struct Route<'a> {
    /// The method it was matched by (`GET` for a `HEAD`).
    pub method: Method,
    /// The path template (`/v1/calls/{callId}`).
    pub template: &'a str,
    /// Its operation object.
    pub operation: &'a Value,
    /// Its path item (for path-level parameters).
    pub item: &'a Value,
    /// The path parameters' values, by name, as they appear in the path.
    pub params: Vec<(&'a str, String)>,
}

/// Why a request has no operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RouteMiss {
    /// No path of the spec matches.
    NoPath,
    /// The path exists; `OPTIONS` asks which methods it has.
    Options { allow: String },
    /// The path exists, without this method.
    Method { allow: String },
}

impl<'a> Route<'a> {
    /// The operation at `method path` (path templates such as `{callId}`
    /// match any one segment; the query is ignored). `HEAD` is `GET`
    /// without the body, as HTTP says.
    pub fn find(spec: &'a Value, method: &Method, path: &str) -> Result<Route<'a>, RouteMiss> {
        let path = path.split('?').next().unwrap_or(path);
        let paths = spec
            .get("paths")
            .and_then(Value::as_object)
            .ok_or(RouteMiss::NoPath)?;
        let (template, item, params) = paths
            .iter()
            .find_map(|(template, item)| Some((template, item, matches(template, path)?)))
            .ok_or(RouteMiss::NoPath)?;
        let method = if method == Method::HEAD {
            Method::GET
        } else {
            method.clone()
        };
        let lookup = method.as_str().to_ascii_lowercase();
        if let Some(operation) = item.get(&lookup) {
            return Ok(Route {
                method,
                template,
                operation,
                item,
                params,
            });
        }
        let allow = allowed(item);
        if method == Method::OPTIONS {
            return Err(RouteMiss::Options { allow });
        }
        Err(RouteMiss::Method { allow })
    }

    /// The value of the path parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The parameter objects of the path's parameters (the operation's
    /// own over the path item's), each with the value the request has.
    pub fn path_parameters(&self, spec: &'a Value) -> Vec<(&'a Value, &str)> {
        let declared: Vec<&Value> = [self.item, self.operation]
            .into_iter()
            .flat_map(|owner| {
                owner
                    .get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .map(|p| deref(spec, p))
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
            .collect();
        self.params
            .iter()
            .filter_map(|(name, value)| {
                let parameter = declared
                    .iter()
                    .rev()
                    .find(|p| p.get("name").and_then(Value::as_str) == Some(name))?;
                Some((*parameter, value.as_str()))
            })
            .collect()
    }

    /// The JSON schema of the request body, if the operation takes one.
    pub fn body_schema(&self) -> Option<&'a Value> {
        self.operation
            .pointer("/requestBody/content/application~1json/schema")
    }

    /// The status key of the operation's documented success (`201`, `2XX`),
    /// and its response object.
    pub fn success(&self) -> Option<(&'a str, &'a Value)> {
        self.operation
            .get("responses")
            .and_then(Value::as_object)?
            .iter()
            .find(|(code, _)| code.starts_with('2'))
            .map(|(code, response)| (code.as_str(), response))
    }
}

/// The `Allow` header of a path item: its methods, `HEAD` where it has
/// `GET`, and `OPTIONS`.
fn allowed(item: &Value) -> String {
    const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "patch", "trace"];
    let mut allow: Vec<String> = METHODS
        .iter()
        .filter(|m| item.get(**m).is_some())
        .map(|m| m.to_uppercase())
        .collect();
    if item.get("get").is_some() {
        allow.push("HEAD".into());
    }
    if item.get("options").is_none() {
        allow.push("OPTIONS".into());
    }
    allow.join(", ")
}

/// The path parameters, when a path template (`/v1/calls/{callId}`)
/// matches a concrete path; `None` when it does not.
fn matches<'t>(template: &'t str, path: &str) -> Option<Vec<(&'t str, String)>> {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    if t.len() != p.len() {
        return None;
    }
    let mut params = Vec::new();
    for (t, p) in t.iter().zip(&p) {
        match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(name) if !p.is_empty() => params.push((name, percent_decoded(p))),
            Some(_) => return None,
            None if t == p => {}
            None => return None,
        }
    }
    Some(params)
}

/// A path segment with `%XX` escapes decoded (lossy for invalid UTF-8).
fn percent_decoded(segment: &str) -> String {
    url::form_urlencoded::parse(segment.replace('+', "%2B").as_bytes())
        .next()
        .map(|(key, _)| key.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// FIXTURE: a spec with a templated path.
    fn spec() -> Value {
        json!({"paths": {"/v1/calls/{callId}": {
            "parameters": [{"name": "callId", "in": "path", "required": true, "schema": {"type": "string"}}],
            "get": {
                "operationId": "get_call",
                "responses": {"200": {"description": "ok"}, "404": {"description": "no"}}
            }
        }}})
    }

    #[test]
    fn templated_paths_route_with_their_parameters_and_others_do_not() {
        let spec = spec();
        let route = Route::find(&spec, &Method::GET, "/v1/calls/call_1?x=1").unwrap();
        assert_eq!(route.operation["operationId"], "get_call");
        assert_eq!(route.template, "/v1/calls/{callId}");
        assert_eq!(route.param("callId"), Some("call_1"));
        let escaped = Route::find(&spec, &Method::GET, "/v1/calls/a%20b+c").unwrap();
        assert_eq!(escaped.param("callId"), Some("a b+c"));
        let parameters = route.path_parameters(&spec);
        assert_eq!(parameters.len(), 1);
        assert_eq!(parameters[0].1, "call_1");
        assert_eq!(
            Route::find(&spec, &Method::HEAD, "/v1/calls/call_1")
                .unwrap()
                .method,
            Method::GET
        );
        assert_eq!(
            Route::find(&spec, &Method::GET, "/v1/calls/").unwrap_err(),
            RouteMiss::NoPath
        );
        assert_eq!(
            Route::find(&spec, &Method::GET, "/v1/calls/a/b").unwrap_err(),
            RouteMiss::NoPath
        );
        let allow = "GET, HEAD, OPTIONS".to_owned();
        assert_eq!(
            Route::find(&spec, &Method::POST, "/v1/calls/call_1").unwrap_err(),
            RouteMiss::Method { allow: allow.clone() }
        );
        assert_eq!(
            Route::find(&spec, &Method::OPTIONS, "/v1/calls/call_1").unwrap_err(),
            RouteMiss::Options { allow }
        );
        assert_eq!(route.success().map(|(code, _)| code), Some("200"));
    }
}
