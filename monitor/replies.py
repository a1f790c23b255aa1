"""Transparent public replies in the buyer's language, and the three-part checklist.

A good public reply (1) acknowledges the specific problem, (2) states the fix or next step, and
(3) invites the buyer to a private channel, while never offering an incentive to change the
review and never exposing personal data. `draft_reply` writes one from templates per language
and category; `check_reply` tells which parts a (possibly hand-edited) reply contains and what it
must not contain.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_LANG = "en"
CATEGORIES = ("counterfeit", "damage", "delay", "other")

# language -> category -> (acknowledge, next step); the invitation is per language only.
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "counterfeit": ("We are sorry that you received an item you believe is not genuine.",
                        "We take authenticity very seriously: our brand team is checking this "
                        "batch, and we will replace it with a verified original or refund it."),
        "damage": ("We are sorry that your order arrived damaged.",
                   "We will send a replacement or refund it, and we are reviewing our packaging "
                   "with the carrier."),
        "delay": ("We are sorry that your delivery took so long.",
                  "We are tracing the parcel with the carrier and will reship or refund it if "
                  "it cannot be found."),
        "other": ("We are sorry that the product did not meet your expectations.",
                  "We have passed your feedback to our product team and will help with a "
                  "replacement or refund under our return policy."),
    },
    "de": {
        "counterfeit": ("Es tut uns leid, dass Sie einen Artikel erhalten haben, den Sie für "
                        "nicht echt halten.",
                        "Wir nehmen Echtheit sehr ernst: Unser Markenteam prüft diese Charge, "
                        "und wir ersetzen den Artikel durch ein geprüftes Original oder erstatten "
                        "den Kaufpreis."),
        "damage": ("Es tut uns leid, dass Ihre Bestellung beschädigt angekommen ist.",
                   "Wir senden Ihnen Ersatz oder erstatten den Betrag und prüfen unsere "
                   "Verpackung mit dem Versanddienstleister."),
        "delay": ("Es tut uns leid, dass die Lieferung so lange gedauert hat.",
                  "Wir verfolgen das Paket mit dem Versanddienstleister und senden es erneut "
                  "oder erstatten den Betrag, falls es nicht auffindbar ist."),
        "other": ("Es tut uns leid, dass das Produkt Ihre Erwartungen nicht erfüllt hat.",
                  "Wir haben Ihr Feedback an unser Produktteam weitergegeben und helfen gern "
                  "mit Ersatz oder Erstattung gemäß unseren Rückgabebedingungen."),
    },
    "fr": {
        "counterfeit": ("Nous sommes désolés que vous ayez reçu un article que vous pensez ne "
                        "pas être authentique.",
                        "L'authenticité est essentielle pour nous : notre équipe vérifie ce lot "
                        "et nous vous proposerons un remplacement par un original vérifié ou un "
                        "remboursement."),
        "damage": ("Nous sommes désolés que votre commande soit arrivée endommagée.",
                   "Nous vous enverrons un remplacement ou un remboursement, et nous revoyons "
                   "notre emballage avec le transporteur."),
        "delay": ("Nous sommes désolés que la livraison ait pris autant de temps.",
                  "Nous suivons le colis avec le transporteur et le renverrons ou le "
                  "rembourserons s'il reste introuvable."),
        "other": ("Nous sommes désolés que le produit n'ait pas répondu à vos attentes.",
                  "Nous avons transmis votre avis à notre équipe produit et vous aiderons avec "
                  "un remplacement ou un remboursement selon nos conditions de retour."),
    },
    "es": {
        "counterfeit": ("Lamentamos que haya recibido un artículo que considera que no es "
                        "original.",
                        "La autenticidad es muy importante para nosotros: nuestro equipo está "
                        "revisando este lote y le ofreceremos un reemplazo original verificado o "
                        "el reembolso."),
        "damage": ("Lamentamos que su pedido haya llegado dañado.",
                   "Le enviaremos un reemplazo o le haremos el reembolso, y estamos revisando "
                   "el embalaje con la empresa de transporte."),
        "delay": ("Lamentamos que la entrega haya tardado tanto.",
                  "Estamos rastreando el paquete con la empresa de transporte y lo reenviaremos "
                  "o reembolsaremos si no aparece."),
        "other": ("Lamentamos que el producto no haya cumplido sus expectativas.",
                  "Hemos trasladado su opinión a nuestro equipo de producto y le ayudaremos con "
                  "un reemplazo o reembolso según nuestra política de devoluciones."),
    },
    "it": {
        "counterfeit": ("Ci dispiace che abbia ricevuto un articolo che ritiene non originale.",
                        "Prendiamo molto sul serio l'autenticità: il nostro team sta verificando "
                        "questo lotto e le offriremo una sostituzione con un originale verificato "
                        "o il rimborso."),
        "damage": ("Ci dispiace che il suo ordine sia arrivato danneggiato.",
                   "Le invieremo una sostituzione o il rimborso e stiamo rivedendo l'imballaggio "
                   "con il corriere."),
        "delay": ("Ci dispiace che la consegna abbia richiesto così tanto tempo.",
                  "Stiamo rintracciando il pacco con il corriere e lo rispediremo o "
                  "rimborseremo se non verrà trovato."),
        "other": ("Ci dispiace che il prodotto non abbia soddisfatto le sue aspettative.",
                  "Abbiamo condiviso il suo feedback con il team prodotto e la aiuteremo con una "
                  "sostituzione o un rimborso secondo la nostra politica di reso."),
    },
    "pt": {
        "counterfeit": ("Lamentamos que tenha recebido um item que considera não ser original.",
                        "Levamos a autenticidade muito a sério: a nossa equipa está a verificar "
                        "este lote e ofereceremos a substituição por um original verificado ou o "
                        "reembolso."),
        "damage": ("Lamentamos que o seu pedido tenha chegado danificado.",
                   "Enviaremos uma substituição ou faremos o reembolso, e estamos a rever a "
                   "embalagem com a transportadora."),
        "delay": ("Lamentamos que a entrega tenha demorado tanto.",
                  "Estamos a rastrear a encomenda com a transportadora e vamos reenviá-la ou "
                  "reembolsá-la se não for encontrada."),
        "other": ("Lamentamos que o produto não tenha correspondido às suas expectativas.",
                  "Partilhámos o seu comentário com a equipa de produto e ajudaremos com uma "
                  "substituição ou reembolso de acordo com a nossa política de devoluções."),
    },
    "ja": {
        "counterfeit": ("正規品ではないと思われる商品がお手元に届いたとのこと、誠に申し訳ございません。",
                        "真正性は当社にとって最も重要です。ブランドチームがこのロットを確認しており、"
                        "確認済みの正規品との交換または返金で対応いたします。"),
        "damage": ("商品が破損した状態で届いたとのこと、誠に申し訳ございません。",
                   "交換品の発送または返金にて対応いたします。また配送業者と梱包の見直しを進めております。"),
        "delay": ("お届けまでに大変お時間をいただき、誠に申し訳ございません。",
                  "配送業者と荷物の追跡を行っており、見つからない場合は再発送または返金いたします。"),
        "other": ("商品がご期待に沿えなかったとのこと、誠に申し訳ございません。",
                  "いただいたご意見は製品チームに共有いたしました。返品規定に基づき交換または返金でお手伝いいたします。"),
    },
    "zh": {
        "counterfeit": ("很抱歉您收到了您认为不是正品的商品。",
                        "我们非常重视商品的真实性：品牌团队正在核查这一批次，我们将为您更换经过验证的正品或办理退款。"),
        "damage": ("很抱歉您的订单到货时已经损坏。",
                   "我们将为您补发或办理退款，并正在与物流公司一起改进包装。"),
        "delay": ("很抱歉您的包裹送达时间这么长。",
                  "我们正在与物流公司追踪包裹，如果无法找到，将为您重新发货或办理退款。"),
        "other": ("很抱歉商品没有达到您的期望。",
                  "我们已将您的反馈转达给产品团队，并将根据退货政策为您办理更换或退款。"),
    },
}
INVITATIONS: dict[str, str] = {
    "en": "Please contact us at {contact} with your order number so we can resolve this "
          "with you directly.",
    "de": "Bitte kontaktieren Sie uns unter {contact} mit Ihrer Bestellnummer, damit wir das "
          "direkt mit Ihnen klären können.",
    "fr": "Merci de nous contacter à {contact} avec votre numéro de commande afin que nous "
          "puissions régler cela directement avec vous.",
    "es": "Por favor, contáctenos en {contact} con su número de pedido para resolverlo "
          "directamente con usted.",
    "it": "La preghiamo di contattarci a {contact} indicando il numero d'ordine, così potremo "
          "risolvere direttamente con lei.",
    "pt": "Por favor, entre em contacto connosco através de {contact} com o número da "
          "encomenda para resolvermos isto diretamente consigo.",
    "ja": "恐れ入りますが、ご注文番号を添えて {contact} までご連絡ください。直接対応させていただきます。",
    "zh": "请通过 {contact} 联系我们并提供您的订单号，我们会直接为您处理。",
}

# Markers that show each part in a reply, any language (lower-cased substring match).
PART_MARKERS: dict[str, tuple[str, ...]] = {
    "acknowledge": ("sorry", "apologi", "tut uns leid", "entschuldig", "désolé", "desole",
                    "excuses", "lamentamos", "lo sentimos", "disculp", "ci dispiace", "scus",
                    "lamentamos", "desculp", "申し訳", "すみません", "抱歉", "对不起", "不好意思"),
    "fix": ("replace", "refund", "reship", "investigat", "checking", "tracing", "ersatz",
            "erstatt", "prüf", "remplacement", "rembours", "vérifi", "reemplazo", "reembols",
            "revisando", "sostituzione", "rimbors", "verificando", "substitui", "交換", "返金",
            "再発送", "确认", "核查", "更换", "退款", "补发", "重新发货"),
    "invite": ("contact", "email", "e-mail", "message us", "dm us", "kontaktier", "schreiben sie",
               "contactez", "contacter", "contáctenos", "contacte", "escríbanos", "contattarci",
               "contattaci", "entre em contato", "contacto", "ご連絡", "お問い合わせ", "联系",
               "私信"),
}
# What a public reply must never contain.
INCENTIVE = re.compile(
    r"(change|update|remove|delete|edit|revise)\s+(your|the)\s+(review|rating|feedback)|"
    r"in exchange for|gift card|free (product|item)s? if|bewertung (ändern|löschen)|"
    r"(modifier|supprimer) (votre|l')\s?avis|(cambiar|eliminar) (su|la) (reseña|valoración)|"
    r"(modificare|rimuovere) la recensione|(alterar|remover) (a sua|sua) avaliação|"
    r"レビュー.{0,6}(削除|変更|修正)|(修改|删除|追加).{0,4}评价|好评返现", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"(?<!\w)\+?\d[\d ()./-]{7,}\d(?!\w)")
ORDER_ID = re.compile(r"\b(?:\d{3}-\d{7}-\d{7}|O-\d{6,}|order\s*#?\s*\d{5,})\b", re.IGNORECASE)


def redact_personal_data(text: str) -> str:
    """Buyer text with e-mail addresses, phone numbers and order ids replaced by placeholders,
    for channels (chat, e-mail) where the whole team reads along."""
    text = EMAIL.sub("[e-mail]", text)
    text = ORDER_ID.sub("[order id]", text)
    return PHONE.sub("[phone]", text)


@dataclass(frozen=True)
class ReplyCheck:
    """Which of the three parts a reply holds, and what it must not hold."""

    acknowledge: bool
    fix: bool
    invite: bool
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.acknowledge and self.fix and self.invite and not self.problems


@dataclass(frozen=True)
class ReplyDraft:
    text: str
    lang: str  # the language the template was written in (falls back to English)
    category: str


def load_templates(path: str | Path | None) -> dict[str, dict[str, str]]:
    """The seller's own templates (JSON), over the built-in ones.

    Format: {"<lang>": {"<category>": "<full reply with {contact}>", ...}, ...}, categories as in
    CATEGORIES. A reply given here replaces the built-in one for that language and category; the
    checklist still applies to it.
    """
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"MONITOR_REPLY_TEMPLATES {path}: cannot read it as JSON "
                         f"({type(exc).__name__})") from None
    if not isinstance(data, dict) or not all(
            isinstance(v, dict) and all(isinstance(t, str) for t in v.values())
            for v in data.values()):
        raise ValueError(f"MONITOR_REPLY_TEMPLATES {path}: expected "
                         '{"lang": {"category": "reply text"}}')
    return data


def draft_reply(category: str, lang: str | None, *, contact: str,
                custom: dict[str, dict[str, str]] | None = None) -> ReplyDraft:
    """A public reply for a complaint of `category`, in the buyer's language when we have it;
    the seller's own template (`custom`, see `load_templates`) wins over the built-in one."""
    cat = category if category in CATEGORIES else "other"
    own = (custom or {}).get(lang or "", {}).get(cat)
    if own:
        return ReplyDraft(text=own.replace("{contact}", contact), lang=lang, category=cat)
    code = lang if lang in TEMPLATES else DEFAULT_LANG
    ack, fix = TEMPLATES[code][cat]
    sep = "" if code in ("ja", "zh") else " "
    text = sep.join([ack, fix, INVITATIONS[code].format(contact=contact)])
    return ReplyDraft(text=text, lang=code, category=cat)


def check_reply(text: str, *, contact: str | None = None) -> ReplyCheck:
    """Checklist for a (possibly edited) reply: the three parts, and no incentive or personal data."""
    low = text.lower()
    parts = {part: any(m in low for m in markers) for part, markers in PART_MARKERS.items()}
    problems = []
    scan = text.replace(contact, " ") if contact else text  # the support contact is allowed
    if INCENTIVE.search(scan):
        problems.append("offers something for changing or removing the review")
    if EMAIL.search(scan):
        problems.append("shows an e-mail address other than the support contact")
    if PHONE.search(EMAIL.sub("", scan)):
        problems.append("shows a phone number")
    if ORDER_ID.search(scan):
        problems.append("shows an order number")
    return ReplyCheck(parts["acknowledge"], parts["fix"], parts["invite"], problems)
