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

from .reply_variants import (DEFECT_TEMPLATES, PT_BR_FOLLOW_UPS, PT_BR_INVITATION,
                             PT_BR_TEMPLATES, damage_variant, portuguese_variant)
from .errors import InputError

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
    "ko": {
        "counterfeit": ("정품이 아닌 것으로 의심되는 상품을 받으셨다니 정말 죄송합니다.",
                        "저희는 정품 여부를 매우 중요하게 생각합니다. 브랜드 팀이 해당 입고분을 확인하고 "
                        "있으며, 검증된 정품으로 교환하거나 환불해 드리겠습니다."),
        "damage": ("주문하신 상품이 파손된 상태로 도착하여 정말 죄송합니다.",
                   "교환 상품을 보내 드리거나 환불해 드리겠으며, 택배사와 함께 포장 방식을 점검하고 "
                   "있습니다."),
        "delay": ("배송이 이렇게 오래 걸려 정말 죄송합니다.",
                  "택배사와 함께 소포를 추적하고 있으며, 찾을 수 없는 경우 재발송하거나 환불해 "
                  "드리겠습니다."),
        "other": ("상품이 기대에 미치지 못해 정말 죄송합니다.",
                  "남겨 주신 의견을 제품 팀에 전달했으며, 반품 정책에 따라 교환 또는 환불을 "
                  "도와드리겠습니다."),
    },
    "ru": {
        "counterfeit": ("Нам очень жаль, что вы получили товар, который считаете неоригинальным.",
                        "Мы очень серьёзно относимся к подлинности: наша команда проверяет эту "
                        "партию, и мы заменим товар на проверенный оригинал или вернём деньги."),
        "damage": ("Нам очень жаль, что ваш заказ пришёл повреждённым.",
                   "Мы отправим замену или вернём деньги и вместе со службой доставки "
                   "пересматриваем упаковку."),
        "delay": ("Нам очень жаль, что доставка заняла так много времени.",
                  "Мы отслеживаем посылку вместе со службой доставки и отправим заказ повторно "
                  "или вернём деньги, если её не удастся найти."),
        "other": ("Нам очень жаль, что товар не оправдал ваших ожиданий.",
                  "Мы передали ваш отзыв команде продукта и поможем с заменой или возвратом "
                  "денег по нашим правилам возврата."),
    },
    "ar": {
        "counterfeit": ("نأسف لأنك تلقيت منتجًا تعتقد أنه غير أصلي.",
                        "نحن نأخذ أصالة منتجاتنا على محمل الجد: يقوم فريق العلامة التجارية بفحص هذه "
                        "الدفعة، وسنستبدل المنتج بآخر أصلي تم التحقق منه أو نعيد إليك المبلغ."),
        "damage": ("نأسف لوصول طلبك تالفًا.",
                   "سنرسل لك بديلًا أو نعيد إليك المبلغ، ونراجع التغليف مع شركة الشحن."),
        "delay": ("نأسف لأن توصيل طلبك استغرق كل هذا الوقت.",
                  "نتتبع الشحنة مع شركة الشحن، وسنعيد إرسالها أو نعيد إليك المبلغ إذا تعذر العثور "
                  "عليها."),
        "other": ("نأسف لأن المنتج لم يلبِّ توقعاتك.",
                  "أبلغنا فريق المنتج بملاحظاتك، وسنساعدك في الاستبدال أو استرداد المبلغ وفق سياسة "
                  "الإرجاع لدينا."),
    },
    "nl": {
        "counterfeit": ("Het spijt ons dat u een artikel heeft ontvangen waarvan u denkt dat het "
                        "niet echt is.",
                        "Echtheid nemen we zeer serieus: ons merkteam controleert deze partij en "
                        "we vervangen het artikel door een gecontroleerd origineel of betalen het "
                        "bedrag terug."),
        "damage": ("Het spijt ons dat uw bestelling beschadigd is aangekomen.",
                   "We sturen u een vervangend exemplaar of betalen het bedrag terug, en we "
                   "bekijken onze verpakking samen met de vervoerder."),
        "delay": ("Het spijt ons dat de levering zo lang heeft geduurd.",
                  "We volgen het pakket samen met de vervoerder en versturen het opnieuw of "
                  "betalen het bedrag terug als het niet gevonden wordt."),
        "other": ("Het spijt ons dat het product niet aan uw verwachtingen heeft voldaan.",
                  "We hebben uw feedback aan ons productteam doorgegeven en helpen u graag met een "
                  "vervanging of terugbetaling volgens ons retourbeleid."),
    },
    "pl": {
        "counterfeit": ("Przykro nam, że otrzymali Państwo produkt, który uważają Państwo za "
                        "nieoryginalny.",
                        "Autentyczność traktujemy bardzo poważnie: nasz zespół sprawdza tę partię, "
                        "a produkt wymienimy na sprawdzony oryginał lub zwrócimy pieniądze."),
        "damage": ("Przykro nam, że zamówienie dotarło uszkodzone.",
                   "Wyślemy produkt zastępczy lub zwrócimy pieniądze, a wraz z przewoźnikiem "
                   "sprawdzamy nasze opakowania."),
        "delay": ("Przykro nam, że dostawa trwała tak długo.",
                  "Śledzimy przesyłkę razem z przewoźnikiem i wyślemy ją ponownie lub zwrócimy "
                  "pieniądze, jeśli nie uda się jej odnaleźć."),
        "other": ("Przykro nam, że produkt nie spełnił Państwa oczekiwań.",
                  "Przekazaliśmy Państwa opinię naszemu zespołowi produktowemu i chętnie pomożemy "
                  "w wymianie lub zwrocie pieniędzy zgodnie z naszymi zasadami zwrotów."),
    },
    "tr": {
        "counterfeit": ("Orijinal olmadığını düşündüğünüz bir ürün aldığınız için çok üzgünüz.",
                        "Orijinalliği çok ciddiye alıyoruz: marka ekibimiz bu partiyi inceliyor; "
                        "ürünü doğrulanmış orijinal bir ürünle değiştireceğiz veya ücretini iade "
                        "edeceğiz."),
        "damage": ("Siparişiniz hasarlı ulaştığı için çok üzgünüz.",
                   "Size yenisini göndereceğiz veya ücretini iade edeceğiz; ayrıca ambalajımızı "
                   "kargo firmasıyla birlikte gözden geçiriyoruz."),
        "delay": ("Teslimat bu kadar uzun sürdüğü için çok üzgünüz.",
                  "Paketi kargo firmasıyla birlikte takip ediyoruz; bulunamazsa yeniden "
                  "gönderecek veya ücretini iade edeceğiz."),
        "other": ("Ürün beklentilerinizi karşılamadığı için çok üzgünüz.",
                  "Görüşlerinizi ürün ekibimize ilettik; iade politikamız kapsamında değişim veya "
                  "para iadesi konusunda size yardımcı olacağız."),
    },
    "sv": {
        "counterfeit": ("Vi beklagar att du har fått en vara som du inte tror är äkta.",
                        "Vi tar äkthet på största allvar: vårt varumärkesteam kontrollerar det här "
                        "partiet, och vi ersätter varan med ett kontrollerat original eller "
                        "återbetalar den."),
        "damage": ("Vi beklagar att din beställning kom fram skadad.",
                   "Vi skickar en ersättningsvara eller återbetalar beloppet, och vi ser över vår "
                   "förpackning tillsammans med transportören."),
        "delay": ("Vi beklagar att leveransen tog så lång tid.",
                  "Vi spårar paketet tillsammans med transportören och skickar det på nytt eller "
                  "återbetalar beloppet om det inte går att hitta."),
        "other": ("Vi beklagar att produkten inte motsvarade dina förväntningar.",
                  "Vi har lämnat din återkoppling vidare till vårt produktteam och hjälper gärna "
                  "till med ersättning eller återbetalning enligt vår returpolicy."),
    },
    "no": {
        "counterfeit": ("Vi beklager at du har mottatt en vare du mener ikke er ekte.",
                        "Vi tar ekthet svært alvorlig: merkevareteamet vårt kontrollerer dette "
                        "partiet, og vi erstatter varen med en kontrollert originalvare eller "
                        "refunderer beløpet."),
        "damage": ("Vi beklager at bestillingen din kom frem skadet.",
                   "Vi sender deg en erstatning eller refunderer beløpet, og vi går gjennom "
                   "emballasjen vår sammen med transportøren."),
        "delay": ("Vi beklager at leveringen tok så lang tid.",
                  "Vi sporer pakken sammen med transportøren og sender den på nytt eller "
                  "refunderer beløpet hvis den ikke blir funnet."),
        "other": ("Vi beklager at produktet ikke levde opp til forventningene dine.",
                  "Vi har sendt tilbakemeldingen din videre til produktteamet vårt og hjelper deg "
                  "gjerne med erstatning eller refusjon i henhold til returvilkårene våre."),
    },
    "da": {
        "counterfeit": ("Vi beklager, at du har modtaget en vare, som du mener ikke er ægte.",
                        "Vi tager ægthed meget alvorligt: vores brandteam kontrollerer dette "
                        "parti, og vi erstatter varen med en kontrolleret original eller "
                        "refunderer beløbet."),
        "damage": ("Vi beklager, at din ordre ankom beskadiget.",
                   "Vi sender dig en erstatning eller refunderer beløbet, og vi gennemgår vores "
                   "emballage sammen med fragtfirmaet."),
        "delay": ("Vi beklager, at leveringen tog så lang tid.",
                  "Vi sporer pakken sammen med fragtfirmaet og sender den igen eller refunderer "
                  "beløbet, hvis den ikke bliver fundet."),
        "other": ("Vi beklager, at produktet ikke levede op til dine forventninger.",
                  "Vi har givet din feedback videre til vores produktteam og hjælper gerne med "
                  "erstatning eller refusion i henhold til vores returpolitik."),
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
    "ko": "주문 번호와 함께 {contact}(으)로 연락해 주시면 직접 해결해 드리겠습니다.",
    "ru": "Пожалуйста, напишите нам на {contact} и укажите номер заказа, чтобы мы могли решить "
          "этот вопрос с вами напрямую.",
    "ar": "يرجى التواصل معنا عبر {contact} مع رقم الطلب حتى نتمكن من حل المشكلة معك مباشرة.",
    "nl": "Neem contact met ons op via {contact} met uw bestelnummer, zodat we dit rechtstreeks "
          "met u kunnen oplossen.",
    "pl": "Prosimy o kontakt pod adresem {contact} z numerem zamówienia, abyśmy mogli rozwiązać "
          "tę sprawę bezpośrednio z Państwem.",
    "tr": "Sorunu sizinle doğrudan çözebilmemiz için lütfen sipariş numaranızla birlikte "
          "{contact} adresinden bizimle iletişime geçin.",
    "sv": "Kontakta oss på {contact} med ditt ordernummer så att vi kan lösa detta direkt med dig.",
    "no": "Kontakt oss på {contact} med ordrenummeret ditt, så løser vi dette direkte med deg.",
    "da": "Kontakt os på {contact} med dit ordrenummer, så løser vi det direkte med dig.",
}

# Follow-ups after a resolved case (`cases.FOLLOW_UPS`), in the buyer's language: what changed
# because of the complaint (7 days), and an invitation to try the product again (30 days). Both
# only inform and invite: nothing is offered for changing the review.
CHANGE_PLACEHOLDER = "[what we changed]"
FOLLOW_UP_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {"improvement_report": "Thank you again for telling us about the problem with your "
                                 "order. Because of your feedback, we have made this change: "
                                 "{change} If anything is still not right, please contact us at "
                                 "{contact}.",
           "try_again": "A few weeks ago you told us about a problem with your order, and we have "
                        "since made this change: {change} We would be glad if you gave the product "
                        "another try. If you have any questions, please contact us at {contact}."},
    "de": {"improvement_report": "Vielen Dank noch einmal, dass Sie uns auf das Problem mit Ihrer "
                                 "Bestellung hingewiesen haben. Aufgrund Ihres Feedbacks haben wir "
                                 "Folgendes geändert: {change} Falls noch etwas nicht stimmt, "
                                 "kontaktieren Sie uns bitte unter {contact}.",
           "try_again": "Vor einigen Wochen haben Sie uns auf ein Problem mit Ihrer Bestellung "
                        "hingewiesen. Seitdem haben wir Folgendes geändert: {change} Wir würden "
                        "uns freuen, wenn Sie dem Produkt noch eine Chance geben. Bei Fragen "
                        "kontaktieren Sie uns bitte unter {contact}."},
    "fr": {"improvement_report": "Merci encore de nous avoir signalé le problème rencontré avec "
                                 "votre commande. Grâce à votre retour, nous avons apporté ce "
                                 "changement : {change} Si quelque chose ne va toujours pas, merci "
                                 "de nous contacter à {contact}.",
           "try_again": "Il y a quelques semaines, vous nous avez signalé un problème avec votre "
                        "commande. Depuis, nous avons apporté ce changement : {change} Nous "
                        "serions heureux que vous donniez une nouvelle chance au produit. Pour "
                        "toute question, merci de nous contacter à {contact}."},
    "es": {"improvement_report": "Gracias de nuevo por informarnos del problema con su pedido. "
                                 "Gracias a sus comentarios, hemos hecho este cambio: {change} Si "
                                 "algo sigue sin estar bien, contáctenos en {contact}.",
           "try_again": "Hace unas semanas nos informó de un problema con su pedido y desde "
                        "entonces hemos hecho este cambio: {change} Nos alegraría que volviera a "
                        "probar el producto. Si tiene cualquier pregunta, contáctenos en "
                        "{contact}."},
    "it": {"improvement_report": "Grazie ancora per averci segnalato il problema con il suo "
                                 "ordine. Grazie al suo riscontro abbiamo apportato questa "
                                 "modifica: {change} Se qualcosa non va ancora, la preghiamo di "
                                 "contattarci a {contact}.",
           "try_again": "Alcune settimane fa ci ha segnalato un problema con il suo ordine e da "
                        "allora abbiamo apportato questa modifica: {change} Saremmo lieti se "
                        "desse un'altra possibilità al prodotto. Per qualsiasi domanda, la "
                        "preghiamo di contattarci a {contact}."},
    "pt": {"improvement_report": "Obrigado mais uma vez por nos informar sobre o problema com a "
                                 "sua encomenda. Graças ao seu comentário, fizemos esta alteração: "
                                 "{change} Se algo ainda não estiver bem, entre em contacto "
                                 "connosco através de {contact}.",
           "try_again": "Há algumas semanas informou-nos de um problema com a sua encomenda e, "
                        "desde então, fizemos esta alteração: {change} Ficaríamos felizes se desse "
                        "outra oportunidade ao produto. Para qualquer questão, entre em contacto "
                        "connosco através de {contact}."},
    "ja": {"improvement_report": "ご注文の商品についてご指摘いただき、改めてお礼申し上げます。"
                                 "いただいたご意見をもとに、次の改善を行いました：{change} "
                                 "まだ問題がございましたら、{contact} までご連絡ください。",
           "try_again": "先日はご注文の商品についてご指摘いただき、ありがとうございました。"
                        "その後、次の改善を行いました：{change} もう一度お試しいただければ幸いです。"
                        "ご不明な点がございましたら、{contact} までご連絡ください。"},
    "zh": {"improvement_report": "再次感谢您告诉我们订单中遇到的问题。根据您的反馈，我们做了以下改进："
                                 "{change} 如果仍有任何问题，请通过 {contact} 联系我们。",
           "try_again": "几周前您向我们反馈了订单中的问题，此后我们做了以下改进：{change} "
                        "欢迎您再次试用这款商品。如有任何疑问，请通过 {contact} 联系我们。"},
    "ko": {"improvement_report": "주문하신 상품의 문제를 알려 주셔서 다시 한번 감사드립니다. 고객님의 "
                                 "의견을 바탕으로 다음과 같이 개선했습니다: {change} 아직 문제가 "
                                 "있으시면 {contact}(으)로 연락해 주세요.",
           "try_again": "몇 주 전 주문하신 상품의 문제를 알려 주셨고, 그 이후 다음과 같이 "
                        "개선했습니다: {change} 상품을 다시 한번 사용해 보시면 감사하겠습니다. "
                        "궁금한 점이 있으시면 {contact}(으)로 연락해 주세요."},
    "ru": {"improvement_report": "Ещё раз спасибо, что сообщили нам о проблеме с заказом. "
                                 "Благодаря вашему отзыву мы внесли следующее изменение: {change} "
                                 "Если что-то всё ещё не так, пожалуйста, напишите нам на "
                                 "{contact}.",
           "try_again": "Несколько недель назад вы сообщили нам о проблеме с заказом, и с тех пор "
                        "мы внесли следующее изменение: {change} Будем рады, если вы дадите "
                        "товару ещё один шанс. Если у вас есть вопросы, пожалуйста, напишите нам "
                        "на {contact}."},
    "ar": {"improvement_report": "شكرًا لك مرة أخرى على إبلاغنا بالمشكلة في طلبك. بفضل ملاحظاتك "
                                 "أجرينا التغيير التالي: {change} إذا كان هناك ما لا يزال غير "
                                 "صحيح، يرجى التواصل معنا عبر {contact}.",
           "try_again": "أبلغتنا قبل بضعة أسابيع بمشكلة في طلبك، ومنذ ذلك الحين أجرينا التغيير "
                        "التالي: {change} يسعدنا أن تمنح المنتج فرصة أخرى. إذا كانت لديك أي أسئلة، "
                        "يرجى التواصل معنا عبر {contact}."},
    "nl": {"improvement_report": "Nogmaals bedankt dat u ons op het probleem met uw bestelling "
                                 "heeft gewezen. Dankzij uw feedback hebben we het volgende "
                                 "aangepast: {change} Is er nog iets niet in orde, neem dan contact "
                                 "met ons op via {contact}.",
           "try_again": "Enkele weken geleden wees u ons op een probleem met uw bestelling. "
                        "Sindsdien hebben we het volgende aangepast: {change} We zouden het fijn "
                        "vinden als u het product nog een kans geeft. Heeft u vragen, neem dan "
                        "contact met ons op via {contact}."},
    "pl": {"improvement_report": "Jeszcze raz dziękujemy za zgłoszenie problemu z zamówieniem. "
                                 "Dzięki Państwa opinii wprowadziliśmy następującą zmianę: "
                                 "{change} Jeśli coś nadal jest nie tak, prosimy o kontakt pod "
                                 "adresem {contact}.",
           "try_again": "Kilka tygodni temu zgłosili Państwo problem z zamówieniem. Od tego czasu "
                        "wprowadziliśmy następującą zmianę: {change} Będzie nam miło, jeśli dadzą "
                        "Państwo produktowi jeszcze jedną szansę. W razie pytań prosimy o kontakt "
                        "pod adresem {contact}."},
    "tr": {"improvement_report": "Siparişinizle ilgili sorunu bize bildirdiğiniz için tekrar "
                                 "teşekkür ederiz. Geri bildiriminiz sayesinde şu değişikliği "
                                 "yaptık: {change} Hâlâ bir sorun varsa lütfen {contact} "
                                 "adresinden bizimle iletişime geçin.",
           "try_again": "Birkaç hafta önce siparişinizle ilgili bir sorunu bize bildirmiştiniz; o "
                        "zamandan beri şu değişikliği yaptık: {change} Ürüne bir şans daha "
                        "verirseniz çok seviniriz. Sorularınız için lütfen {contact} adresinden "
                        "bizimle iletişime geçin."},
    "sv": {"improvement_report": "Tack igen för att du berättade om problemet med din beställning. "
                                 "Tack vare din återkoppling har vi gjort följande ändring: "
                                 "{change} Om något fortfarande inte stämmer, kontakta oss på "
                                 "{contact}.",
           "try_again": "För några veckor sedan berättade du om ett problem med din beställning, "
                        "och sedan dess har vi gjort följande ändring: {change} Vi skulle bli glada "
                        "om du ville ge produkten en ny chans. Har du frågor, kontakta oss på "
                        "{contact}."},
    "no": {"improvement_report": "Takk igjen for at du fortalte oss om problemet med bestillingen "
                                 "din. Takket være tilbakemeldingen din har vi gjort følgende "
                                 "endring: {change} Hvis noe fortsatt ikke er i orden, kontakt oss "
                                 "på {contact}.",
           "try_again": "For noen uker siden fortalte du oss om et problem med bestillingen din, "
                        "og siden da har vi gjort følgende endring: {change} Vi blir glade om du "
                        "vil gi produktet en ny sjanse. Har du spørsmål, kontakt oss på "
                        "{contact}."},
    "da": {"improvement_report": "Tak igen, fordi du fortalte os om problemet med din ordre. "
                                 "Takket være din feedback har vi foretaget følgende ændring: "
                                 "{change} Hvis noget stadig ikke er i orden, så kontakt os på "
                                 "{contact}.",
           "try_again": "For nogle uger siden fortalte du os om et problem med din ordre, og siden "
                        "har vi foretaget følgende ændring: {change} Vi ville blive glade, hvis du "
                        "ville give produktet en ny chance. Har du spørgsmål, så kontakt os på "
                        "{contact}."},
}

# Markers that show each part in a reply, any language (lower-cased substring match).
PART_MARKERS: dict[str, tuple[str, ...]] = {
    "acknowledge": ("sorry", "apologi", "tut uns leid", "entschuldig", "désolé", "desole",
                    "excuses", "lamentamos", "lo sentimos", "disculp", "ci dispiace", "scus",
                    "lamentamos", "desculp", "申し訳", "すみません", "抱歉", "对不起", "不好意思",
                    "죄송", "사과드", "жаль", "извин", "نأسف", "نعتذر", "spijt", "excuses",
                    "przykro", "przeprasz", "üzgünüz", "özür", "beklagar", "ursäkt", "beklager",
                    "unnskyld", "undskyld"),
    "fix": ("replace", "refund", "reship", "investigat", "checking", "tracing", "ersatz",
            "erstatt", "prüf", "remplacement", "rembours", "vérifi", "reemplazo", "reembols",
            "revisando", "sostituzione", "rimbors", "verificando", "substitui", "交換", "返金",
            "再発送", "确认", "核查", "更换", "退款", "补发", "重新发货", "교환", "환불", "재발송",
            "замен", "вернём деньги", "вернем деньги", "возврат", "отслежива", "провер",
            "بديل", "نستبدل", "سنستبدل", "المبلغ", "نتتبع", "بفحص", "vervang", "terugbetal",
            "bedrag terug", "controleert", "wymian", "wymien", "zwrócimy", "zwrot", "sprawdz",
            "śledzimy", "iade", "değiştir", "yenisini", "inceliyor", "takip", "ersätt",
            "återbetal", "kontrollerar", "spårar", "erstat", "refunder", "refusjon", "refusion",
            "sporer", "kontrollerer"),
    "invite": ("contact", "email", "e-mail", "message us", "dm us", "kontaktier", "schreiben sie",
               "contactez", "contacter", "contáctenos", "contacte", "escríbanos", "contattarci",
               "contattaci", "entre em contato", "contacto", "ご連絡", "お問い合わせ", "联系",
               "私信", "연락", "문의", "напишите", "свяжитесь", "обратитесь", "التواصل معنا",
               "تواصل معنا", "راسلنا", "اتصل بنا", "kontakt", "iletişime", "bize yazın",
               "bize ulaşın"),
}
# What a public reply must never contain.
INCENTIVE = re.compile(
    r"(change|update|remove|delete|edit|revise)\s+(your|the)\s+(review|rating|feedback)|"
    r"in exchange for (?:an? |your )?(?:positive |good |better |honest |5[- ]star )?"
    r"(?:review|rating|feedback)|gift card|free (product|item)s? if|bewertung (ändern|löschen)|"
    r"(modifier|supprimer) (votre|l')\s?avis|(cambiar|eliminar) (su|la) (reseña|valoración)|"
    r"(modificare|rimuovere) la recensione|(alterar|remover) (a sua|sua) avaliação|"
    r"レビュー.{0,6}(削除|変更|修正)|(修改|删除|追加).{0,4}评价|好评返现|"
    r"(리뷰|후기|평점).{0,6}(삭제|수정|변경)|(измените|удалите|исправьте|поменяйте|обновите)\s+"
    r"(ваш\s+|свой\s+)?(отзыв|оценку)|в обмен на (?:ваш |хороший |положительный )?(?:отзыв|оценку)|(تعديل|حذف|تغيير)\s+(التقييم|المراجعة|تقييمك|مراجعتك)|"
    r"(review|recensie|beoordeling)\w*\s+(aan\s?passen|verwijderen|wijzigen)|"
    r"(aanpassen|verwijderen|wijzigen) van (uw|je) (review|recensie|beoordeling)|"
    r"(zmieni|usun|popraw)\w*\s+(opini|recenzj|ocen)|"
    r"(yorum|değerlendirme|puan)\w*\s+(sil|değiştir|güncelle)|"
    r"(ändra|ta bort|radera|uppdatera)\s+(din\s+|er\s+)?(recension|omdöme|betyg)|"
    r"(endre|ændre|slette|fjerne|oppdatere|opdatere)\s+(din\s+|den\s+)?"
    r"(anmeldelse|vurdering|omtale|bedømmelse)",
    re.IGNORECASE)
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
    lang: str  # the language the template was written in (falls back to English); pt-BR/pt-PT
    category: str
    variant: str = ""  # "defect" when a damage complaint is about a product that failed in use


def load_templates(path: str | Path | None) -> dict[str, dict[str, str]]:
    """The seller's own templates (JSON), over the built-in ones.

    Format: {"<lang>": {"<category>": "<full reply with {contact}>", ...}, ...}, categories as in
    CATEGORIES. A reply given here replaces the built-in one for that language and category; the
    checklist still applies to it. The keys "improvement_report" and "try_again" replace the
    follow-up messages the same way ("{change}" stands for what was changed).
    """
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"MONITOR_REPLY_TEMPLATES {path}: cannot read it as JSON "
                         f"({type(exc).__name__})") from None
    if not isinstance(data, dict) or not all(
            isinstance(v, dict) and all(isinstance(t, str) for t in v.values())
            for v in data.values()):
        raise InputError(f"MONITOR_REPLY_TEMPLATES {path}: expected "
                         '{"lang": {"category": "reply text"}}')
    return data


def seller_templates() -> dict[str, dict[str, str]]:
    """The templates of the file `MONITOR_REPLY_TEMPLATES` names ({} when unset)."""
    import os

    return load_templates(os.environ.get("MONITOR_REPLY_TEMPLATES"))


def draft_reply(category: str, lang: str | None, *, contact: str,
                custom: dict[str, dict[str, str]] | None = None, text: str | None = None,
                evidence: str | None = None, marketplace: str | None = None) -> ReplyDraft:
    """A public reply for a complaint of `category`, in the buyer's language when we have it;
    the seller's own template (`custom`, see `load_templates`) wins over the built-in one.
    The review's `text` and `evidence` tell a product that failed in use (a "defect" reply)
    from one that arrived damaged, and `marketplace` (or the text) Brazilian from European
    Portuguese (`reply_variants`)."""
    cat = category if category in CATEGORIES else "other"
    variant = "defect" if cat == "damage" and damage_variant(text, evidence) == "defect" else ""
    code = lang if lang in TEMPLATES else DEFAULT_LANG
    dialect = portuguese_variant(marketplace, text) if code == "pt" else code
    own_sets = [(custom or {}).get(k, {}) for k in dict.fromkeys((dialect, lang or ""))]
    own = next((t[k] for t in own_sets for k in (variant, cat) if k and t.get(k)), None)
    if own:
        return ReplyDraft(text=own.replace("{contact}", contact), lang=lang, category=cat,
                          variant=variant)
    if variant:
        ack, fix = DEFECT_TEMPLATES[dialect if dialect in DEFECT_TEMPLATES else code]
    elif dialect == "pt-BR":
        ack, fix = PT_BR_TEMPLATES[cat]
    else:
        ack, fix = TEMPLATES[code][cat]
    invite = PT_BR_INVITATION if dialect == "pt-BR" else INVITATIONS[code]
    sep = "" if code in ("ja", "zh") else " "
    text = sep.join([ack, fix, invite.format(contact=contact)])
    return ReplyDraft(text=text, lang=dialect, category=cat, variant=variant)


def reply_for(review: dict, *, contact: str,
              custom: dict[str, dict[str, str]] | None = None) -> ReplyDraft:
    """The public reply draft for a stored review (a row with category, lang, text, evidence,
    marketplace)."""
    return draft_reply(review.get("category") or "other", review.get("lang"), contact=contact,
                       custom=custom, text=review.get("text"), evidence=review.get("evidence"),
                       marketplace=review.get("marketplace"))


def with_reply_drafts(queue, *, contact: str, custom: dict[str, dict[str, str]] | None = None):
    """The response queue (a polars frame with category and lang; text, evidence and
    marketplace when it has them) plus a `reply_draft` column: the public reply for each review
    in its buyer's language, for teams that work in a spreadsheet."""
    import polars as pl

    cols = [c for c in ("category", "lang", "text", "evidence", "marketplace")
            if c in queue.columns]
    drafts = [reply_for(r, contact=contact, custom=custom).text
              for r in queue.select(cols).iter_rows(named=True)]
    return queue.with_columns(pl.Series("reply_draft", drafts, dtype=pl.String))


def check_reply(text: str, *, contact: str | None = None) -> ReplyCheck:
    """Checklist for a (possibly edited) reply: the three parts, and no incentive or personal data."""
    low = text.lower()
    parts = {part: any(m in low for m in markers) for part, markers in PART_MARKERS.items()}
    return ReplyCheck(parts["acknowledge"], parts["fix"], parts["invite"],
                      _forbidden(text, contact))


def _forbidden(text: str, contact: str | None) -> list[str]:
    """What a message to a buyer must never hold: an incentive about the review, personal data."""
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
    return problems


@dataclass(frozen=True)
class FollowUpDraft:
    text: str
    lang: str  # the language the template was written in (falls back to English)
    kind: str  # improvement_report or try_again


@dataclass(frozen=True)
class FollowUpCheck:
    """A follow-up must say what changed and how to reach us, and hold nothing forbidden."""

    says_what_changed: bool
    invite: bool
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.says_what_changed and self.invite and not self.problems


def draft_follow_up(kind: str, lang: str | None, *, contact: str, change: str = "",
                    custom: dict[str, dict[str, str]] | None = None,
                    marketplace: str | None = None) -> FollowUpDraft:
    """The improvement report or try-again invitation for a resolved case, in the buyer's
    language when we have it; `change` is what the seller changed (the agent writes it, in the
    buyer's language), a visible placeholder until then. The seller's own template (`custom`,
    see `load_templates`) wins over the built-in one."""
    if kind not in ("improvement_report", "try_again"):
        raise InputError(f"unknown follow-up kind {kind!r}: improvement_report or try_again")
    own = (custom or {}).get(lang or "", {}).get(kind)
    code = lang if own or lang in FOLLOW_UP_TEMPLATES else DEFAULT_LANG
    brazil = code == "pt" and not own and portuguese_variant(marketplace) == "pt-BR"
    change = " ".join(change.split()) or CHANGE_PLACEHOLDER
    if change[-1] not in ".!?。！？":
        change += "。" if code in ("ja", "zh") else "."
    template = own or (PT_BR_FOLLOW_UPS[kind] if brazil else FOLLOW_UP_TEMPLATES[code][kind])
    # replace, not format: a seller's template may hold other braces
    text = template.replace("{change}", change).replace("{contact}", contact)
    dialect = ("pt-BR" if brazil else "pt-PT") if code == "pt" and not own else code
    return FollowUpDraft(text=text, lang=dialect, kind=kind)


def follow_up_message(task: dict, *, contact: str,
                      custom: dict[str, dict[str, str]] | None = None) -> str:
    """The message draft for one follow-up task (a row of `Store.follow_ups`), starting from
    its case's resolution note."""
    return draft_follow_up(task["kind"], task["lang"], contact=contact,
                           change=task.get("resolution_note") or "", custom=custom,
                           marketplace=task.get("marketplace")).text


def check_follow_up(text: str, *, contact: str | None = None) -> FollowUpCheck:
    """Checklist for a (possibly edited) follow-up message."""
    invite = any(m in text.lower() for m in PART_MARKERS["invite"])
    return FollowUpCheck(says_what_changed=bool(text.strip()) and CHANGE_PLACEHOLDER not in text,
                         invite=invite, problems=_forbidden(text, contact))
