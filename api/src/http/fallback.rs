//! Answers for requests no route took: 405 with `Allow` when the path
//! exists with other methods, otherwise 404 — both as problem+json. The
//! table is built from the generated OpenAPI document, so it cannot drift
//! from the routes.

use actix_web::http::Method;
use actix_web::{web, HttpRequest};

use crate::error::ApiError;

pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<Method>)>,
}

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template.split('/').map(str::to_owned).collect();
                let mut methods: Vec<Method> = Vec::new();
                let ops = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                for (method, present) in ops {
                    if present {
                        methods.push(method);
                    }
                }
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    fn allowed(&self, path: &str) -> Option<&[Method]> {
        let parts: Vec<&str> = path.split('/').collect();
        self.routes
            .iter()
            .find(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(template, part)| {
                        (template.starts_with('{') && !part.is_empty()) || template == part
                    })
            })
            .map(|(_, methods)| methods.as_slice())
    }
}

pub async fn not_routed(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    match table.allowed(req.path()) {
        Some(methods) if !methods.contains(req.method()) => {
            Err(ApiError::MethodNotAllowed(methods.to_vec()))
        }
        _ => Err(ApiError::NotFound),
    }
}
