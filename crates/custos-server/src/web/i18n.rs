//! The privacy center's words, per language. One struct, one instance per
//! language: a missing translation is a compile error, not a blank on the page.
//! The policy's own texts (category and purpose descriptions, the notice) are in
//! the language the policy is written in.

/// Languages the privacy center speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The first supported language of an `Accept-Language` header, by weight.
    pub fn negotiate(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.trim().split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::parse(primary)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }
}

/// Every phrase of the privacy center.
#[derive(Debug)]
pub struct Strings {
    pub skip_to_content: &'static str,
    pub site_title: &'static str,
    pub language: &'static str,
    pub change_language: &'static str,
    pub sign_in_title: &'static str,
    pub sign_in_intro: &'static str,
    pub email_label: &'static str,
    pub email_hint: &'static str,
    pub send_code: &'static str,
    pub code_title: &'static str,
    pub code_intro: &'static str,
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub sign_in: &'static str,
    pub start_again: &'static str,
    pub code_wrong: &'static str,
    pub sign_out: &'static str,
    pub signed_out: &'static str,
    pub session_ended: &'static str,
    pub home_title: &'static str,
    pub your_data: &'static str,
    pub your_data_intro: &'static str,
    pub nothing_held: &'static str,
    pub value: &'static str,
    pub collected_for: &'static str,
    pub lawful_basis: &'static str,
    pub source: &'static str,
    pub who_sees_it: &'static str,
    pub deleted_on: &'static str,
    pub kept_while_needed: &'static str,
    pub correct: &'static str,
    pub correct_title: &'static str,
    pub correct_intro: &'static str,
    pub new_value: &'static str,
    pub save: &'static str,
    pub cancel: &'static str,
    pub corrected: &'static str,
    pub your_choices: &'static str,
    pub your_choices_intro: &'static str,
    pub no_choices: &'static str,
    pub what_you_agree_to: &'static str,
    pub status: &'static str,
    pub consent_granted: &'static str,
    pub consent_withdrawn: &'static str,
    pub consent_never_asked: &'static str,
    pub give_consent: &'static str,
    pub withdraw_consent: &'static str,
    pub consent_saved: &'static str,
    pub legitimate_interest: &'static str,
    pub objected: &'static str,
    pub not_objected: &'static str,
    pub object: &'static str,
    pub lift_objection: &'static str,
    pub objection_saved: &'static str,
    pub recipients: &'static str,
    pub your_requests: &'static str,
    pub no_requests: &'static str,
    pub right: &'static str,
    pub received: &'static str,
    pub deadline: &'static str,
    pub extended_because: &'static str,
    pub download_title: &'static str,
    pub download_intro: &'static str,
    pub download_json: &'static str,
    pub download_csv: &'static str,
    pub delete_title: &'static str,
    pub delete_intro: &'static str,
    pub delete_link: &'static str,
    pub delete_what_goes: &'static str,
    pub delete_what_stays: &'static str,
    pub delete_stats: &'static str,
    pub delete_confirm_label: &'static str,
    pub delete_button: &'static str,
    pub delete_must_confirm: &'static str,
    pub deleted_title: &'static str,
    pub deleted_body: &'static str,
    pub deleted_request_open: &'static str,
    pub receipt: &'static str,
    pub notice_title: &'static str,
    pub read_notice: &'static str,
    pub error_title: &'static str,
    pub error_retry: &'static str,
    pub form_expired: &'static str,
    pub too_many: &'static str,
    pub slow_down: &'static str,
    pub back: &'static str,
    pub your_contracts: &'static str,
    pub your_contracts_intro: &'static str,
    pub reference: &'static str,
    pub cancel_membership: &'static str,
    pub cancel_note: &'static str,
    pub confirm_cancel: &'static str,
    pub cancelled: &'static str,
    pub withdraw_contract: &'static str,
    pub withdraw_note: &'static str,
    pub confirm_withdraw: &'static str,
    pub withdrawn: &'static str,
    pub must_confirm: &'static str,
    pub change_announced: &'static str,
    pub accept_change: &'static str,
    pub accept_change_note: &'static str,
    pub confirm_accept_change: &'static str,
    pub change_accepted: &'static str,
    pub cancel_for_change: &'static str,
    pub cancel_for_change_note: &'static str,
    pub confirm_cancel_for_change: &'static str,
}

pub static EN: Strings = Strings {
    skip_to_content: "Skip to content",
    site_title: "Privacy center",
    language: "Language",
    change_language: "Change language",
    sign_in_title: "Sign in to see your data",
    sign_in_intro: "Enter the email address you use with us. We send a one-time code to that address if we hold data for it; we never say whether we do.",
    email_label: "Email address",
    email_hint: "For example name@example.com",
    send_code: "Send me a code",
    code_title: "Enter your code",
    code_intro: "If we hold data for that address, a 6-digit code is on its way. It is valid for 10 minutes and can be tried 5 times.",
    code_label: "6-digit code",
    code_hint: "Digits only, as in the message",
    sign_in: "Sign in",
    start_again: "Use another address",
    code_wrong: "That code does not match, has expired or was used too often. Check the latest message or ask for a new code.",
    sign_out: "Sign out",
    signed_out: "You are signed out.",
    session_ended: "Your session ended. Please sign in again.",
    home_title: "Your data and your choices",
    your_data: "What we hold about you",
    your_data_intro: "Every piece of personal data we keep about you, why we keep it, who can see it and when it will be deleted.",
    nothing_held: "We hold no personal data about you.",
    value: "Value",
    collected_for: "Collected for",
    lawful_basis: "Lawful basis",
    source: "Source",
    who_sees_it: "Who can see it",
    deleted_on: "Deleted on",
    kept_while_needed: "while needed (see the notice)",
    correct: "Correct",
    correct_title: "Correct your data",
    correct_intro: "Enter the right value. We check it like any new data and record the change.",
    new_value: "New value",
    save: "Save",
    cancel: "Cancel",
    corrected: "Your data is corrected.",
    your_choices: "Your choices",
    your_choices_intro: "Purposes that need your consent, and purposes based on our legitimate interest that you can object to. Changes apply at once.",
    no_choices: "There is nothing to choose: every use of your data rests on a contract or a legal obligation.",
    what_you_agree_to: "What you agree to",
    status: "Status",
    consent_granted: "You agreed",
    consent_withdrawn: "You withdrew your consent",
    consent_never_asked: "Not given",
    give_consent: "Give consent",
    withdraw_consent: "Withdraw consent",
    consent_saved: "Your choice is saved.",
    legitimate_interest: "Our legitimate interest",
    objected: "You objected",
    not_objected: "Not objected",
    object: "Object",
    lift_objection: "Withdraw my objection",
    objection_saved: "Your objection is saved.",
    recipients: "Recipients",
    your_requests: "Your requests",
    no_requests: "You have made no requests.",
    right: "Request",
    received: "Received",
    deadline: "Answer due by",
    extended_because: "Extended because",
    download_title: "Download your data",
    download_intro: "A copy of everything above, in a format you can keep or move to another service.",
    download_json: "Download as JSON",
    download_csv: "Download as CSV (spreadsheet)",
    delete_title: "Delete your account",
    delete_intro: "You can delete your account and the data we hold about you at any time.",
    delete_link: "Delete my account…",
    delete_what_goes: "Everything listed on your page is erased now and cannot be recovered, by us or anyone else.",
    delete_what_stays: "Some records we must keep by law. They are set apart, used for nothing else, and deleted when the law allows:",
    delete_stats: "Anonymous statistics that cannot identify you are kept.",
    delete_confirm_label: "I understand that my account and data will be deleted and this cannot be undone",
    delete_button: "Delete my account",
    delete_must_confirm: "Tick the box to confirm that you want your account deleted.",
    deleted_title: "Your account is deleted",
    deleted_body: "We erased your data. Records we must keep by law are set apart until they can be deleted.",
    deleted_request_open: "Your deletion request is recorded. We will answer by the date below.",
    receipt: "Receipt",
    notice_title: "Privacy notice",
    read_notice: "Read our privacy notice",
    error_title: "Something went wrong",
    error_retry: "Nothing was changed. Please try again.",
    form_expired: "This form has expired. Nothing was changed; please try again.",
    too_many: "Too many attempts. Please wait an hour and try again.",
    slow_down: "Too many attempts from your connection. Please wait a few minutes and try again.",
    back: "Back to your data",
    your_contracts: "Your orders and memberships",
    your_contracts_intro: "What you bought or subscribed to, its key dates and what you can still do.",
    reference: "Reference",
    cancel_membership: "Cancel this membership",
    cancel_note: "The membership ends at the end of the period already paid; that period is not refunded.",
    confirm_cancel: "I want to cancel this membership",
    cancelled: "Your cancellation is recorded. The membership ends on the date shown.",
    withdraw_contract: "Withdraw from this contract",
    withdraw_note: "You may withdraw without giving a reason until {date}; we refund you within 14 days.",
    confirm_withdraw: "I want to withdraw from this contract",
    withdrawn: "Your withdrawal is recorded. The refund date is shown below.",
    must_confirm: "Tick the box to confirm.",
    change_announced: "A change to this membership is announced: see the new price and the date it takes effect.",
    accept_change: "Accept the change",
    accept_change_note: "This change applies to you only if you accept it. If you do not, your membership continues as it is.",
    confirm_accept_change: "I accept the announced change",
    change_accepted: "Your acceptance is recorded. The change applies from the date shown.",
    cancel_for_change: "Cancel because of this change",
    cancel_for_change_note: "You may cancel free of charge before the change takes effect; the membership then ends no later than that date.",
    confirm_cancel_for_change: "I want to cancel because of the change",
};

pub static FR: Strings = Strings {
    skip_to_content: "Aller au contenu",
    site_title: "Espace confidentialité",
    language: "Langue",
    change_language: "Changer de langue",
    sign_in_title: "Connectez-vous pour voir vos données",
    sign_in_intro: "Saisissez l'adresse e-mail que vous utilisez chez nous. Nous y envoyons un code à usage unique si nous détenons des données pour elle ; nous ne disons jamais si c'est le cas.",
    email_label: "Adresse e-mail",
    email_hint: "Par exemple nom@exemple.fr",
    send_code: "Recevoir un code",
    code_title: "Saisissez votre code",
    code_intro: "Si nous détenons des données pour cette adresse, un code à 6 chiffres est en route. Il est valable 10 minutes et peut être essayé 5 fois.",
    code_label: "Code à 6 chiffres",
    code_hint: "Chiffres uniquement, comme dans le message",
    sign_in: "Se connecter",
    start_again: "Utiliser une autre adresse",
    code_wrong: "Ce code ne correspond pas, a expiré ou a été essayé trop souvent. Vérifiez le dernier message ou demandez un nouveau code.",
    sign_out: "Se déconnecter",
    signed_out: "Vous êtes déconnecté.",
    session_ended: "Votre session a pris fin. Veuillez vous reconnecter.",
    home_title: "Vos données et vos choix",
    your_data: "Ce que nous détenons sur vous",
    your_data_intro: "Chaque donnée personnelle que nous conservons sur vous, pourquoi, qui peut la voir et quand elle sera supprimée.",
    nothing_held: "Nous ne détenons aucune donnée personnelle vous concernant.",
    value: "Valeur",
    collected_for: "Collectée pour",
    lawful_basis: "Base légale",
    source: "Source",
    who_sees_it: "Qui peut la voir",
    deleted_on: "Supprimée le",
    kept_while_needed: "tant que nécessaire (voir la notice)",
    correct: "Corriger",
    correct_title: "Corriger vos données",
    correct_intro: "Saisissez la bonne valeur. Nous la vérifions comme toute nouvelle donnée et enregistrons la modification.",
    new_value: "Nouvelle valeur",
    save: "Enregistrer",
    cancel: "Annuler",
    corrected: "Vos données sont corrigées.",
    your_choices: "Vos choix",
    your_choices_intro: "Les finalités qui demandent votre consentement, et celles fondées sur notre intérêt légitime auxquelles vous pouvez vous opposer. Les changements s'appliquent immédiatement.",
    no_choices: "Rien à choisir : chaque usage de vos données repose sur un contrat ou une obligation légale.",
    what_you_agree_to: "Ce que vous acceptez",
    status: "État",
    consent_granted: "Vous avez accepté",
    consent_withdrawn: "Vous avez retiré votre consentement",
    consent_never_asked: "Non donné",
    give_consent: "Donner mon consentement",
    withdraw_consent: "Retirer mon consentement",
    consent_saved: "Votre choix est enregistré.",
    legitimate_interest: "Notre intérêt légitime",
    objected: "Vous vous êtes opposé",
    not_objected: "Pas d'opposition",
    object: "M'opposer",
    lift_objection: "Retirer mon opposition",
    objection_saved: "Votre opposition est enregistrée.",
    recipients: "Destinataires",
    your_requests: "Vos demandes",
    no_requests: "Vous n'avez fait aucune demande.",
    right: "Demande",
    received: "Reçue le",
    deadline: "Réponse au plus tard le",
    extended_because: "Prolongée car",
    download_title: "Télécharger vos données",
    download_intro: "Une copie de tout ce qui précède, dans un format que vous pouvez garder ou transmettre à un autre service.",
    download_json: "Télécharger en JSON",
    download_csv: "Télécharger en CSV (tableur)",
    delete_title: "Supprimer votre compte",
    delete_intro: "Vous pouvez supprimer à tout moment votre compte et les données que nous détenons sur vous.",
    delete_link: "Supprimer mon compte…",
    delete_what_goes: "Tout ce qui figure sur votre page est effacé maintenant et ne peut être récupéré, ni par nous ni par personne.",
    delete_what_stays: "Certaines données doivent être conservées par la loi. Elles sont mises à part, ne servent à rien d'autre et sont supprimées dès que la loi le permet :",
    delete_stats: "Des statistiques anonymes, qui ne permettent pas de vous identifier, sont conservées.",
    delete_confirm_label: "Je comprends que mon compte et mes données seront supprimés et que c'est définitif",
    delete_button: "Supprimer mon compte",
    delete_must_confirm: "Cochez la case pour confirmer la suppression de votre compte.",
    deleted_title: "Votre compte est supprimé",
    deleted_body: "Nous avons effacé vos données. Celles que la loi nous oblige à garder sont mises à part jusqu'à leur suppression.",
    deleted_request_open: "Votre demande de suppression est enregistrée. Nous répondrons au plus tard à la date ci-dessous.",
    receipt: "Reçu",
    notice_title: "Politique de confidentialité",
    read_notice: "Lire notre politique de confidentialité",
    error_title: "Une erreur est survenue",
    error_retry: "Rien n'a été modifié. Veuillez réessayer.",
    form_expired: "Ce formulaire a expiré. Rien n'a été modifié ; veuillez réessayer.",
    too_many: "Trop de tentatives. Veuillez patienter une heure puis réessayer.",
    slow_down: "Trop de tentatives depuis votre connexion. Veuillez patienter quelques minutes puis réessayer.",
    back: "Retour à vos données",
    your_contracts: "Vos commandes et abonnements",
    your_contracts_intro: "Ce que vous avez acheté ou souscrit, ses dates clés et ce que vous pouvez encore faire.",
    reference: "Référence",
    cancel_membership: "Résilier cet abonnement",
    cancel_note: "L'abonnement prend fin à la fin de la période déjà payée ; cette période n'est pas remboursée.",
    confirm_cancel: "Je veux résilier cet abonnement",
    cancelled: "Votre résiliation est enregistrée. L'abonnement prend fin à la date indiquée.",
    withdraw_contract: "Me rétracter de ce contrat",
    withdraw_note: "Vous pouvez vous rétracter sans donner de motif jusqu'au {date} ; nous vous remboursons sous 14 jours.",
    confirm_withdraw: "Je veux me rétracter de ce contrat",
    withdrawn: "Votre rétractation est enregistrée. La date du remboursement est indiquée ci-dessous.",
    must_confirm: "Cochez la case pour confirmer.",
    change_announced: "Une modification de cet abonnement est annoncée : voir le nouveau prix et sa date d'effet.",
    accept_change: "Accepter la modification",
    accept_change_note: "Cette modification ne s'applique à vous que si vous l'acceptez. Sinon, votre abonnement continue tel quel.",
    confirm_accept_change: "J'accepte la modification annoncée",
    change_accepted: "Votre acceptation est enregistrée. La modification s'applique à partir de la date indiquée.",
    cancel_for_change: "Résilier en raison de cette modification",
    cancel_for_change_note: "Vous pouvez résilier sans frais avant l'entrée en vigueur de la modification ; l'abonnement prend alors fin au plus tard à cette date.",
    confirm_cancel_for_change: "Je veux résilier en raison de la modification",
};

/// Names of rights, for the request list.
pub fn right_name(lang: Lang, right: &str) -> String {
    let name = match (lang, right) {
        (Lang::En, "access") => "Access to your data",
        (Lang::En, "rectification") => "Correction",
        (Lang::En, "erasure") => "Deletion",
        (Lang::En, "portability") => "Copy to take elsewhere",
        (Lang::En, "restriction") => "Restriction",
        (Lang::En, "objection") => "Objection",
        (Lang::En, "consent_withdrawal") => "Consent withdrawal",
        (Lang::Fr, "access") => "Accès à vos données",
        (Lang::Fr, "rectification") => "Rectification",
        (Lang::Fr, "erasure") => "Effacement",
        (Lang::Fr, "portability") => "Portabilité",
        (Lang::Fr, "restriction") => "Limitation",
        (Lang::Fr, "objection") => "Opposition",
        (Lang::Fr, "consent_withdrawal") => "Retrait du consentement",
        _ => return right.replace('_', " "),
    };
    name.to_owned()
}

/// Names of request states.
pub fn state_name(lang: Lang, state: &str) -> String {
    let name = match (lang, state) {
        (Lang::En, "received") => "Received",
        (Lang::En, "verified") => "Identity checked",
        (Lang::En, "in_progress") => "In progress",
        (Lang::En, "routed") => "Passed to the responsible company",
        (Lang::En, "fulfilled") => "Done",
        (Lang::En, "rejected") => "Refused",
        (Lang::Fr, "received") => "Reçue",
        (Lang::Fr, "verified") => "Identité vérifiée",
        (Lang::Fr, "in_progress") => "En cours",
        (Lang::Fr, "routed") => "Transmise à l'entreprise responsable",
        (Lang::Fr, "fulfilled") => "Traitée",
        (Lang::Fr, "rejected") => "Refusée",
        _ => return state.replace('_', " "),
    };
    name.to_owned()
}

/// Names of lawful bases.
pub fn basis_name(lang: Lang, basis: &str) -> String {
    let name = match (lang, basis) {
        (Lang::En, "consent") => "Your consent",
        (Lang::En, "contract") => "Our contract with you",
        (Lang::En, "legal_obligation") => "A legal obligation",
        (Lang::En, "legitimate_interest") => "Our legitimate interest",
        (Lang::En, "vital_interest") => "Vital interest",
        (Lang::En, "public_interest") => "Public interest",
        (Lang::Fr, "consent") => "Votre consentement",
        (Lang::Fr, "contract") => "Notre contrat avec vous",
        (Lang::Fr, "legal_obligation") => "Une obligation légale",
        (Lang::Fr, "legitimate_interest") => "Notre intérêt légitime",
        (Lang::Fr, "vital_interest") => "Intérêt vital",
        (Lang::Fr, "public_interest") => "Intérêt public",
        _ => return basis.replace('_', " "),
    };
    name.to_owned()
}

/// Names of contract kinds, key dates, amounts and states; anything not listed is
/// shown with its words spelled out ("past_due" → "past due").
pub fn contract_word(lang: Lang, word: &str) -> String {
    let name = match (lang, word) {
        (Lang::En, "order") => "Order",
        (Lang::En, "membership") => "Membership",
        (Lang::En, "return") => "Return",
        (Lang::En, "created_at") => "Created",
        (Lang::En, "contract_at") => "Contract made",
        (Lang::En, "possession_at") => "Delivered",
        (Lang::En, "activated_at") => "Activated",
        (Lang::En, "next_period") => "Next period starts",
        (Lang::En, "cancel_effective") => "Ends on",
        (Lang::En, "grace_ends") => "Payment grace ends",
        (Lang::En, "ended_at") => "Ended",
        (Lang::En, "withdrawn_at") => "Withdrawal notified",
        (Lang::En, "refund_due") => "Refund due by",
        (Lang::En, "return_by") => "Send the goods back by",
        (Lang::En, "refunded_at") => "Refunded",
        (Lang::En, "notified_at") => "Return notified",
        (Lang::En, "ship_by") => "Ship by",
        (Lang::En, "change_effective") => "Announced change takes effect",
        (Lang::En, "new_price") => "New price",
        (Lang::En, "total") => "Total",
        (Lang::En, "price") => "Price per period",
        (Lang::En, "refund") => "Refund",
        (Lang::En, "in_good_standing") => "Active",
        (Lang::En, "awaiting_activation") => "Not yet activated",
        (Lang::En, "past_due") => "Payment overdue",
        (Lang::Fr, "order") => "Commande",
        (Lang::Fr, "membership") => "Abonnement",
        (Lang::Fr, "return") => "Retour",
        (Lang::Fr, "created_at") => "Créé le",
        (Lang::Fr, "contract_at") => "Contrat conclu le",
        (Lang::Fr, "possession_at") => "Livré le",
        (Lang::Fr, "activated_at") => "Activé le",
        (Lang::Fr, "next_period") => "Prochaine période le",
        (Lang::Fr, "cancel_effective") => "Prend fin le",
        (Lang::Fr, "grace_ends") => "Fin du délai de paiement",
        (Lang::Fr, "ended_at") => "Terminé le",
        (Lang::Fr, "withdrawn_at") => "Rétractation notifiée le",
        (Lang::Fr, "refund_due") => "Remboursement au plus tard le",
        (Lang::Fr, "return_by") => "Renvoyer les biens avant le",
        (Lang::Fr, "refunded_at") => "Remboursé le",
        (Lang::Fr, "notified_at") => "Retour notifié le",
        (Lang::Fr, "ship_by") => "À expédier avant le",
        (Lang::Fr, "change_effective") => "Modification annoncée, effective le",
        (Lang::Fr, "new_price") => "Nouveau prix",
        (Lang::Fr, "total") => "Total",
        (Lang::Fr, "price") => "Prix par période",
        (Lang::Fr, "refund") => "Remboursement",
        (Lang::Fr, "in_good_standing") => "Actif",
        (Lang::Fr, "awaiting_activation") => "Pas encore activé",
        (Lang::Fr, "past_due") => "Paiement en retard",
        _ => {
            let spaced = word.replace('_', " ");
            let mut c = spaced.chars();
            return c
                .next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default();
        }
    };
    name.to_owned()
}

/// Where a record came from, as the person reads it.
pub fn source_name(lang: Lang, source: &str) -> String {
    let name = match (lang, source) {
        (Lang::En, "data_subject") => "You",
        (Lang::Fr, "data_subject") => "Vous",
        _ => return source.replace('_', " "),
    };
    name.to_owned()
}

/// A retention rule ("3y after last_activity") as a sentence fragment.
pub fn retention_phrase(lang: Lang, rule: &str) -> String {
    use custos_policy::period::{Trigger, Unit, parse_retention};
    let Ok(r) = parse_retention(rule) else {
        return rule.to_owned();
    };
    let n = r.span.n;
    let one = n == 1;
    let unit = match (lang, r.span.unit) {
        (Lang::En, Unit::Hours) => {
            if one {
                "hour"
            } else {
                "hours"
            }
        }
        (Lang::En, Unit::Days) => {
            if one {
                "day"
            } else {
                "days"
            }
        }
        (Lang::En, Unit::BusinessDays) => {
            if one {
                "business day"
            } else {
                "business days"
            }
        }
        (Lang::En, Unit::Weeks) => {
            if one {
                "week"
            } else {
                "weeks"
            }
        }
        (Lang::En, Unit::Months) => {
            if one {
                "month"
            } else {
                "months"
            }
        }
        (Lang::En, Unit::Years) => {
            if one {
                "year"
            } else {
                "years"
            }
        }
        (Lang::Fr, Unit::Hours) => {
            if one {
                "heure"
            } else {
                "heures"
            }
        }
        (Lang::Fr, Unit::Days) => {
            if one {
                "jour"
            } else {
                "jours"
            }
        }
        (Lang::Fr, Unit::BusinessDays) => {
            if one {
                "jour ouvré"
            } else {
                "jours ouvrés"
            }
        }
        (Lang::Fr, Unit::Weeks) => {
            if one {
                "semaine"
            } else {
                "semaines"
            }
        }
        (Lang::Fr, Unit::Months) => "mois",
        (Lang::Fr, Unit::Years) => {
            if one {
                "an"
            } else {
                "ans"
            }
        }
    };
    let after = match (lang, r.after) {
        (Lang::En, Trigger::Collection) => "after collection",
        (Lang::En, Trigger::LastActivity) => "after your last activity",
        (Lang::En, Trigger::AccountClosure) => "after your account is closed",
        (Lang::En, Trigger::ContractEnd) => "after the end of the contract",
        (Lang::En, Trigger::ConsentWithdrawal) => "after you withdraw your consent",
        (Lang::En, Trigger::PurposeEnd) => "after the purpose is fulfilled",
        (Lang::Fr, Trigger::Collection) => "après la collecte",
        (Lang::Fr, Trigger::LastActivity) => "après votre dernière activité",
        (Lang::Fr, Trigger::AccountClosure) => "après la clôture de votre compte",
        (Lang::Fr, Trigger::ContractEnd) => "après la fin du contrat",
        (Lang::Fr, Trigger::ConsentWithdrawal) => "après le retrait de votre consentement",
        (Lang::Fr, Trigger::PurposeEnd) => "après la fin de la finalité",
    };
    format!("{n} {unit} {after}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_rules_read_as_sentences_in_each_language() {
        assert_eq!(
            retention_phrase(Lang::En, "3y after last_activity"),
            "3 years after your last activity"
        );
        assert_eq!(
            retention_phrase(Lang::En, "1mo"),
            "1 month after collection"
        );
        assert_eq!(
            retention_phrase(Lang::Fr, "10y after contract_end"),
            "10 ans après la fin du contrat"
        );
        // Not a rule: shown as written rather than hidden.
        assert_eq!(retention_phrase(Lang::En, "forever"), "forever");
    }

    #[test]
    fn notes_with_a_date_have_its_place_in_every_language() {
        for lang in Lang::ALL {
            assert!(lang.strings().withdraw_note.contains("{date}"), "{lang:?}");
        }
    }

    #[test]
    fn accept_language_picks_the_heaviest_supported_language() {
        assert_eq!(Lang::negotiate("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr);
        assert_eq!(Lang::negotiate("de-DE,en;q=0.5,fr;q=0.7"), Lang::Fr);
        assert_eq!(Lang::negotiate("de, es"), Lang::En);
        assert_eq!(Lang::negotiate(""), Lang::En);
        assert_eq!(Lang::negotiate("en;q=0.2, fr;q=0.1"), Lang::En);
    }

    #[test]
    fn every_right_and_state_has_a_name_in_every_language() {
        for lang in Lang::ALL {
            for right in [
                "access",
                "rectification",
                "erasure",
                "portability",
                "restriction",
                "objection",
                "consent_withdrawal",
            ] {
                // The fallback shows the raw name; a translated one differs from it.
                assert_ne!(right_name(lang, right), right.replace('_', " "), "{right}");
            }
            for state in [
                "received",
                "verified",
                "in_progress",
                "routed",
                "fulfilled",
                "rejected",
            ] {
                assert_ne!(state_name(lang, state), state.replace('_', " "), "{state}");
            }
        }
    }
}
