//! The pages' words in English and Brazilian Portuguese. A page picks its locale from the launch
//! token, else the browser's `Accept-Language`, else the tenant's `embed.locale`, else English;
//! every string a template shows is here.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "pt-BR")]
    PtBr,
}

impl Locale {
    /// `en`, `pt-BR` (and the usual spellings of them); anything else is not a page locale.
    pub fn parse(tag: &str) -> Option<Self> {
        match tag.to_ascii_lowercase().replace('_', "-").as_str() {
            "en" | "en-us" | "en-gb" => Some(Self::En),
            "pt-br" | "pt" => Some(Self::PtBr),
            _ => None,
        }
    }

    /// The browser's choice: the known language (by its primary subtag, `pt-PT` reads as
    /// Portuguese) with the highest `q` in an `Accept-Language` value; the first on a tie.
    pub fn from_accept_language(value: &str) -> Option<Self> {
        let mut best: Option<(Self, f32)> = None;
        for item in value.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let tag = parts.next().unwrap_or_default();
            let quality = parts
                .find_map(|p| p.strip_prefix("q="))
                .map_or(Some(1.0), |q| q.parse::<f32>().ok())
                .unwrap_or(0.0);
            let primary = tag.split(['-', '_']).next().unwrap_or_default();
            let Some(locale) = Self::parse(primary) else {
                continue;
            };
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((locale, quality));
            }
        }
        best.map(|(locale, _)| locale)
    }

    /// The first locale that is set and known: the person's, then the tenant's, then English.
    pub fn choose(person: Option<&str>, tenant: Option<&str>) -> Self {
        person
            .and_then(Self::parse)
            .or_else(|| tenant.and_then(Self::parse))
            .unwrap_or_default()
    }

    /// The `lang` attribute of the page.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::PtBr => "pt-BR",
        }
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Self::En => &EN,
            Self::PtBr => &PT_BR,
        }
    }
}

/// Every piece of text the pages show.
pub struct Strings {
    pub job_heading: &'static str,
    pub application_heading: &'static str,
    pub status: &'static str,
    pub status_open: &'static str,
    pub status_archived: &'static str,
    pub archived_notice: &'static str,
    pub questions: &'static str,
    pub no_questions: &'static str,
    pub thinking_time: &'static str,
    pub answer_time: &'static str,
    pub retakes: &'static str,
    pub seconds: &'static str,
    pub invitations: &'static str,
    pub invitation_sent: &'static str,
    pub invitation_started: &'static str,
    pub invitation_completed: &'static str,
    pub invitation_expired: &'static str,
    pub invitation_cancelled: &'static str,
    /// One invitation's status (the counts above are plurals in Portuguese).
    pub status_sent: &'static str,
    pub status_started: &'static str,
    pub status_completed: &'static str,
    pub status_expired: &'static str,
    pub status_cancelled: &'static str,
    pub open_in_suite: &'static str,
    pub opens_in_new_window: &'static str,
    pub invited_on: &'static str,
    pub expires_on: &'static str,
    pub completed_on: &'static str,
    pub reviews: &'static str,
    pub no_reviews: &'static str,
    pub reviewer: &'static str,
    pub score: &'static str,
    pub recommendation: &'static str,
    pub comment: &'static str,
    pub average_score: &'static str,
    pub overall_recommendation: &'static str,
    pub advance: &'static str,
    pub hold: &'static str,
    pub reject: &'static str,
    pub watch_recording: &'static str,
    pub no_recording_yet: &'static str,
    pub not_synced_heading: &'static str,
    pub not_synced_job: &'static str,
    pub not_synced_application: &'static str,
    pub missing_in_suite: &'static str,
    pub unreachable_heading: &'static str,
    pub unreachable_stale: &'static str,
    pub unreachable_nothing: &'static str,
    pub minutes_ago: &'static str,
    pub sign_in_heading: &'static str,
    pub sign_in_text: &'static str,
    pub link_used_text: &'static str,
    pub wrong_page_text: &'static str,
    pub error_code: &'static str,
    pub opening_suite: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub signed_in_heading: &'static str,
    pub signed_in_text: &'static str,
    pub continue_label: &'static str,
    pub error_heading: &'static str,
    pub not_found_text: &'static str,
    pub bad_request_text: &'static str,
    pub internal_text: &'static str,
    /// A sign-in the identity provider's answer cannot complete (e.g. an unverified email).
    pub sign_in_refused_text: &'static str,
    /// No login into the suite with this account (`sync::flows::users::AccountRefusal`).
    pub suite_account_refused_text: &'static str,
}

pub static EN: Strings = Strings {
    job_heading: "Video interview",
    application_heading: "Video interview",
    status: "Status",
    status_open: "Open",
    status_archived: "Archived",
    archived_notice: "This interview project is archived: no new invitations are sent.",
    questions: "Questions",
    no_questions: "No questions yet.",
    thinking_time: "Thinking time",
    answer_time: "Answer time",
    retakes: "Retakes",
    seconds: "s",
    invitations: "Invitations",
    invitation_sent: "Sent",
    invitation_started: "Started",
    invitation_completed: "Completed",
    invitation_expired: "Expired",
    invitation_cancelled: "Cancelled",
    status_sent: "Sent",
    status_started: "Started",
    status_completed: "Completed",
    status_expired: "Expired",
    status_cancelled: "Cancelled",
    open_in_suite: "Open in suite",
    opens_in_new_window: "(opens in a new window)",
    invited_on: "Invited",
    expires_on: "Expires",
    completed_on: "Completed",
    reviews: "Reviews",
    no_reviews: "No reviews yet.",
    reviewer: "Reviewer",
    score: "Score",
    recommendation: "Recommendation",
    comment: "Comment",
    average_score: "Average score",
    overall_recommendation: "Overall recommendation",
    advance: "Advance",
    hold: "Hold",
    reject: "Reject",
    watch_recording: "Watch the recording in the suite",
    no_recording_yet: "No recording yet: it appears here once the candidate completes the interview.",
    not_synced_heading: "Not synced yet",
    not_synced_job: "This job has no interview project yet. It appears here shortly after it syncs.",
    not_synced_application: "This candidate has no video interview yet. It appears here once they are invited.",
    missing_in_suite: "The suite no longer has this item. It may have been deleted there.",
    unreachable_heading: "The suite is not answering",
    unreachable_stale: "Showing the last data we received",
    unreachable_nothing: "The suite is not answering and we have no earlier data to show. Try again in a few minutes.",
    minutes_ago: "minutes ago",
    sign_in_heading: "Please sign in",
    sign_in_text: "Your access link has expired or is not valid. Sign in to see this page.",
    link_used_text: "This access link was already used. Open the page again from the ATS.",
    wrong_page_text: "Your access link is for another page. Open this page from the ATS.",
    error_code: "Code",
    opening_suite: "Opening the suite…",
    sign_in: "Sign in",
    sign_out: "Sign out",
    signed_in_heading: "You are signed in",
    signed_in_text: "You can close this window.",
    continue_label: "Continue",
    error_heading: "Something went wrong",
    not_found_text: "There is nothing here.",
    bad_request_text: "This request is not valid.",
    internal_text: "An unexpected error occurred. Please try again.",
    sign_in_refused_text: "Your identity provider's answer cannot be used to sign you in. Ask your administrator, quoting the code below.",
    suite_account_refused_text: "Liaison cannot sign you into the interview platform with this account. Ask your administrator, quoting the code below.",
};

pub static PT_BR: Strings = Strings {
    job_heading: "Entrevista em vídeo",
    application_heading: "Entrevista em vídeo",
    status: "Situação",
    status_open: "Aberto",
    status_archived: "Arquivado",
    archived_notice: "Este projeto de entrevista está arquivado: nenhum convite novo é enviado.",
    questions: "Perguntas",
    no_questions: "Ainda não há perguntas.",
    thinking_time: "Tempo para pensar",
    answer_time: "Tempo de resposta",
    retakes: "Novas tentativas",
    seconds: "s",
    invitations: "Convites",
    invitation_sent: "Enviados",
    invitation_started: "Iniciados",
    invitation_completed: "Concluídos",
    invitation_expired: "Expirados",
    invitation_cancelled: "Cancelados",
    status_sent: "Enviado",
    status_started: "Iniciado",
    status_completed: "Concluído",
    status_expired: "Expirado",
    status_cancelled: "Cancelado",
    open_in_suite: "Abrir na plataforma",
    opens_in_new_window: "(abre em uma nova janela)",
    invited_on: "Convidado em",
    expires_on: "Expira em",
    completed_on: "Concluído em",
    reviews: "Avaliações",
    no_reviews: "Ainda não há avaliações.",
    reviewer: "Avaliador",
    score: "Nota",
    recommendation: "Recomendação",
    comment: "Comentário",
    average_score: "Nota média",
    overall_recommendation: "Recomendação geral",
    advance: "Avançar",
    hold: "Aguardar",
    reject: "Reprovar",
    watch_recording: "Assistir à gravação na plataforma",
    no_recording_yet: "Ainda não há gravação: ela aparece aqui quando o candidato concluir a entrevista.",
    not_synced_heading: "Ainda não sincronizado",
    not_synced_job: "Esta vaga ainda não tem projeto de entrevista. Ele aparece aqui logo após a sincronização.",
    not_synced_application: "Este candidato ainda não tem entrevista em vídeo. Ela aparece aqui quando ele for convidado.",
    missing_in_suite: "A plataforma não tem mais este item. Ele pode ter sido excluído lá.",
    unreachable_heading: "A plataforma não está respondendo",
    unreachable_stale: "Mostrando os últimos dados recebidos",
    unreachable_nothing: "A plataforma não está respondendo e não temos dados anteriores para mostrar. Tente novamente em alguns minutos.",
    minutes_ago: "minutos atrás",
    sign_in_heading: "Entre para continuar",
    sign_in_text: "Seu link de acesso expirou ou não é válido. Entre para ver esta página.",
    link_used_text: "Este link de acesso já foi usado. Abra a página novamente pelo ATS.",
    wrong_page_text: "Seu link de acesso é para outra página. Abra esta página pelo ATS.",
    error_code: "Código",
    opening_suite: "Abrindo a plataforma…",
    sign_in: "Entrar",
    sign_out: "Sair",
    signed_in_heading: "Você entrou",
    signed_in_text: "Você já pode fechar esta janela.",
    continue_label: "Continuar",
    error_heading: "Algo deu errado",
    not_found_text: "Não há nada aqui.",
    bad_request_text: "Esta solicitação não é válida.",
    internal_text: "Ocorreu um erro inesperado. Tente novamente.",
    sign_in_refused_text: "A resposta do seu provedor de identidade não permite a sua entrada. Fale com o administrador e informe o código abaixo.",
    suite_account_refused_text: "O Liaison não pode abrir a plataforma de entrevistas com esta conta. Fale com o administrador e informe o código abaixo.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_person_s_locale_wins_over_the_tenant_s() {
        assert_eq!(Locale::choose(Some("pt-BR"), Some("en")), Locale::PtBr);
        assert_eq!(Locale::choose(None, Some("pt-BR")), Locale::PtBr);
        assert_eq!(Locale::choose(Some("fr"), Some("pt-BR")), Locale::PtBr);
        assert_eq!(Locale::choose(None, None), Locale::En);
    }

    #[test]
    fn the_browser_s_best_known_language_is_taken() {
        let pick = Locale::from_accept_language;
        assert_eq!(
            pick("pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7"),
            Some(Locale::PtBr)
        );
        assert_eq!(pick("de-DE, en;q=0.5, pt;q=0.8"), Some(Locale::PtBr));
        assert_eq!(pick("en-AU"), Some(Locale::En));
        assert_eq!(pick("pt-PT;q=0, en;q=0.1"), Some(Locale::En));
        assert_eq!(pick("de, fr;q=0.9"), None);
        assert_eq!(pick(""), None);
    }

    #[test]
    fn locale_tags_parse_loosely() {
        assert_eq!(Locale::parse("pt_br"), Some(Locale::PtBr));
        assert_eq!(Locale::parse("EN"), Some(Locale::En));
        assert_eq!(Locale::parse("de"), None);
    }

    #[test]
    fn both_locales_say_something_different_for_the_main_labels() {
        assert_ne!(EN.open_in_suite, PT_BR.open_in_suite);
        assert_ne!(EN.no_reviews, PT_BR.no_reviews);
        assert_ne!(EN.not_synced_heading, PT_BR.not_synced_heading);
        // One invitation's status is singular where the counts are plural.
        assert_ne!(PT_BR.status_completed, PT_BR.invitation_completed);
    }
}
