//! The integration frontend and SSO, against the real suite simulator, real identity providers
//! (`oidc-provider`, `saml-idp` from npm) and a real browser (headless Chromium).

mod browser;
mod launch;
pub mod oidc;
mod pages;
mod popup;
mod popup_browser;
mod requisition_browser;
pub mod saml;
pub mod support;
