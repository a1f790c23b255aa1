"""Complaint phrase lists per category and language: the rule half of severity.

Each entry is a regular expression. Latin, Cyrillic and Arabic patterns are wrapped in word
boundaries; Japanese, Chinese and Korean patterns match as substrings (no spaces between words).
Patterns were written from general knowledge of how buyers phrase these complaints, not copied
from any review corpus. Patterns that themselves contain a negation ("not genuine", 不是正品)
are marked so the negation check does not cancel them.
"""

from __future__ import annotations

# A material after "imitation" or "fake" ("imitation cuir", "fake leather", "fake-fur collar")
# makes it a description of the item, not a counterfeit claim.
_MATERIAL_AFTER = (r"[- ](?:leather|wood|suede|fur|pearls?|stone|marble|silk|diamonds?|flowers?|"
                   r"plants?|grass|lashes|eyelashes|nails|tan|snow|cuir|bois|daim|fourrure|"
                   r"perles?|pierre|marbre|leder|pelz)")
IMITATION = rf"imitation(?!{_MATERIAL_AFTER})"
FAKE = rf"fakes?(?!{_MATERIAL_AFTER})"

# category -> language -> patterns
PHRASES: dict[str, dict[str, list[str]]] = {
    "counterfeit": {
        "en": [FAKE, r"counterfeits?", r"knock[- ]?offs?", r"bootleg(?:ged)?", r"forger(?:y|ies)",
               r"not (?:an? )?(?:genuine|authentic|original|real)(?: product| item)?",
               r"isn'?t (?:genuine|authentic|original|real)", r"cheap (?:imitation|copy)",
               IMITATION, r"fraudulent (?:product|item|copy)",
               # a doubt is a claim too: the seller must answer "is this genuine?" within the hour
               r"(?:not sure|doubt|wonder(?:ing)?|question) (?:if|whether|that)? ?(?:it|this|they|these)"
               r" (?:is|are|was|were|'s|'re) (?:genuine|authentic|original|real|legit)",
               r"(?:thinking|thought|believing|assumed) (?:it|they|this) (?:was|were|is|are) "
               r"(?:genuine|authentic|an? original|the real (?:one|thing))"],
        "de": [r"fälschung(?:en)?", r"gefälscht\w*", FAKE, r"plagiat", r"nachahmung",
               r"imitat", r"nachgemacht\w*", r"(?:kein|nicht) (?:das )?original\w*", r"nicht echt",
               r"alles andere als (?:ein )?original\w*",
               r"(?:zweifel\w*|frage mich),? (?:ob|an der) (?:es|das|die|der)? ?(?:echtheit|echt|original)\w*"],
        "fr": [r"contrefa[cç]on\w*", r"contrefait\w*", r"(?:un|du) faux(?: produit)?(?! contacts?)",
               r"produit faux", r"pas (?:un |l')?(?:original|authentique)\w*",
               IMITATION,
               r"copies? (?:chinoises?|bon marché)", r"(?:c'est|s'agit d') ?une copie", r"(?:c'est|est) une fausse(?=\s*[.!,;]|\s*$)",
               r"dout\w* (?:de|sur) (?:l'|son |leur )?(?:authenticit[ée]|originalit[ée])"],
        "es": [r"falsificad[oa]s?", r"falsificaci[oó]n", r"(?:es|era|son) fals[oa]s?",
               r"producto falso", r"imitaci[oó]n(?! de (?:la |las |el |los )?(?:flor|piel|cuero|madera))",
               r"no (?:es )?original", r"pirata", r"copia barata",
               r"no (?:es|son|era|eran|parecen?(?: que sean?)?) (?:el |la |los |las |un |una )?"
               r"(?:original(?:es)?|aut[eé]ntic[oa]s?)",
               r"(?:es una copia|son copias)(?! (?:fiel|exacta|id[eé]ntica))"],
        "it": [r"contraffatt[oaie]", r"contraffazion[ei]", r"(?:è|e') (?:un )?fals[oa]",
               r"prodotto falso", r"imitazion[ei](?! (?:pelle|legno|pelliccia|perle?))", r"non (?:è )?originale", r"taroccat[oaie]",
               r"tarocc[oa]"],
        "pt": [r"falsificad[oa]s?", r"falsifica[cç][aã]o", r"(?:é|era) fals[oa]",
               r"produto falso", r"imita[cç][aã]o(?! de (?:couro|madeira|pele|pedra))", r"n[aã]o (?:é )?original", r"pirata",
               r"r[eé]plica"],
        "ru": [r"подделк\w*", r"поддельн\w*", r"фальшивк\w*", r"контрафакт\w*", r"не оригинал\w*",
               r"паль"],
        "ar": [r"مقلد\w*", r"تقليد", r"مزيف\w*", r"غير أصلي"],
        "ja": [r"偽物", r"偽造", r"ニセモノ", r"にせもの", r"パチモン", r"コピー品", r"模造品",
               r"海賊版", r"正規品(?:では|じゃ)(?:ない|ありません)", r"本物(?:では|じゃ)(?:ない|ありません)",
               # doubts: 「本物か否か」「正規品かどうか気になる」「本物とは思えない」
               r"(?:正規品|本物|純正品)(?:か否か|かどうか|なのか)[^。！？]{0,8}"
               r"(?:気にな|疑|分から|わから|怪し|不安|調べ|確認)",
               r"(?:正規品|本物|純正品)(?:とは思えない|ではなさそう|じゃなさそう|ではないよう|ではないと思"
               r"|ぽいけど違う|っぽいけど違う|ぽいっけど違う)"],
        "zh": [r"假货", r"(?<!虚)假的", r"假冒", r"仿冒", r"山寨", r"高仿", r"盗版", r"冒牌",
               r"不是正品", r"非正品", r"不是原装",
               r"(?:不是|并非|非|不像|不象|不太像|不大像)(?:原装)?(?:正品|正版|真品|真货|行货)",
               r"像是?(?:仿的|仿品|仿货|假货|假的)", r"仿品", r"仿货",
               # doubts: 怀疑是否正品, 是不是正品, 看不出是正版, 正品会这样吗, 真假不清楚
               r"怀疑[^。！？!?]{0,10}(?:正品|正版|真假|真伪|假货|假的|盗版|原装|真品|山寨)",
               r"(?:是否|是不是)(?:原装)?(?:正品|正版|真品|真货)",
               r"(?:看|感觉|分辨|区分|判断)不出(?:来)?(?:是不是|是否)?(?:原装)?(?:正品|正版|真品|真假)",
               r"(?:正品|正版|真品)(?:会|能|应该)?(?:这样|这么|如此)[^。！？!?]{0,4}[吗么嘛?？]",
               r"真假(?:难辨|不清楚|不知|未知|存疑|难分)", r"真伪(?:难辨|不清楚|不知|未知|存疑)",
               r"是真是假", r"(?:正品|真品|真货)(?:或是|还是|或者)(?:假|仿|山寨|盗版)"],
        "ko": [r"가품", r"짝퉁", r"위조", r"정품이 아니"],
        # "niet echt" is left out on purpose: in Dutch it mostly means "not really"
        "nl": [r"nep(?:pe)?", r"namaak\w*", r"vervalst\w*", r"vervalsing\w*", r"imitatie(?! (?:leer|hout|bont))",
               r"(?:niet|geen) (?:het )?(?:origineel|originele|authentiek\w*)"],
        "pl": [r"podróbk\w*", r"podrobion\w*", r"falsyfikat\w*", r"nieoryginaln\w*",
               r"nie (?:jest |są |był |była |było )?orygina(?:ł|ln)\w*", r"imitacj\w*(?! (?:skóry|drewna|kamienia|marmuru|futra))",
               r"fałszyw\w*"],
        "tr": [r"sahte", r"taklit", r"çakma", r"orijinal değil\w*", r"imitasyon(?! (?:deri|ahşap|kürk))"],
        "sv": [r"förfalsk\w*", r"oäkta", r"inte (?:är )?(?:äkta|original\w*)", r"fejk\w*",
               r"piratkopi\w*", r"billig kopia"],
        # Norwegian (Bokmål) and Danish share most words; "falsk" alone is left out ("falsk
        # reklame" is false advertising, not a fake item)
        "no": [r"forfalsk\w*", r"uekte", r"ikke (?:er )?(?:ekte|original\w*)", r"kopivare\w*",
               r"piratkopi\w*", r"billig kopi", r"etterligning\w*",
               r"(?:er|var) (?:en )?falsk(?:e)?(?=\s*[.!,;]|\s*$)"],
        "da": [r"forfalsk\w*", r"uægte", r"ikke (?:er )?(?:ægte|original\w*)", r"kopivare\w*",
               r"efterligning\w*", r"falsk(?:e)? (?:vare|varer|produkt\w*)"],
    },
    "damage": {
        "en": [r"broken", r"broke", r"damaged?", r"cracked", r"shattered", r"smashed", r"dented",
               r"crushed", r"torn", r"ripped", r"scratched", r"leak(?:ing|ed|s)?", r"defective",
               r"arrived in pieces", r"dead on arrival",
               # broke in use counts as damage (SEVERITY_LABELS.md rule 2): "stopped working"
               r"stopped (?:working|charging|functioning)", r"(?:quit|died) (?:working )?after",
               r"no longer (?:works|working|turns on|charges)", r"burn(?:ed|t) out",
               r"fell apart", r"came apart", r"(?:snapped|broke) off"],
        "de": [r"beschädigt\w*", r"kaputt\w*", r"zerbrochen\w*", r"gebrochen\w*", r"gerissen\w*",
               r"zerkratzt\w*", r"verbeult\w*", r"defekt\w*", r"ausgelaufen\w*", r"zerdrückt\w*",
               r"bruch", r"funktioniert(?:e)? (?:\w+ )?nicht mehr", r"geht (?:\w+ )?nicht mehr",
               r"(?:den )?geist aufgegeben", r"abgebrochen\w*", r"durchgebrannt\w*"],
        "fr": [r"cass[ée]e?s?", r"endommag[ée]e?s?", r"abîm[ée]e?s?", r"fissur[ée]e?s?",
               r"bris[ée]e?s?", r"défectueu(?:x|se)s?", r"écras[ée]e?s?",
               r"déchir[ée]e?s?", r"fuit", r"fuite", r"ne (?:fonctionne|marche|s'allume|charge) plus",
               r"(?:a|ont) lâché", r"hors service", r"(?:a|ont|est|sont) grill[ée]e?s?"],
        "es": [r"rot[oa]s?", r"dañad[oa]s?", r"rajad[oa]s?", r"agrietad[oa]s?", r"rayad[oa]s?",
               r"defectuos[oa]s?", r"aplastad[oa]s?", r"abollad[oa]s?", r"golpead[oa]s?",
               r"derramad[oa]s?", r"destrozad[oa]s?", r"(?:se )?rompi[óo]", r"se (?:ha|han) roto",
               r"dej[óo] de (?:funcionar|cargar|encender|andar)", r"ya no (?:funciona|enciende|carga)", r"(?:se )?quem[óo]"],
        "it": [r"rott[oaie]", r"danneggiat[oaie]", r"crepat[oaie]", r"incrinat[oaie]",
               r"graffiat[oaie]", r"difettos[oaie]", r"ammaccat[oaie]", r"schiacciat[oaie]"],
        "pt": [r"quebrad[oa]s?", r"danificad[oa]s?", r"rachad[oa]s?", r"arranhad[oa]s?",
               r"defeituos[oa]s?", r"amassad[oa]s?", r"vazando", r"estragad[oa]s?"],
        "ru": [r"слома\w*", r"поврежд\w*", r"разбит\w*", r"трещин\w*", r"царапин\w*", r"брак\w*",
               r"дефект\w*"],
        "ar": [r"مكسور\w*", r"تالف\w*", r"معطوب\w*", r"خدش\w*", r"تعطل\w*", r"معطل\w*"],
        "ja": [r"壊れ", r"破損", r"割れ", r"へこみ", r"凹み", r"不良品", r"初期不良", r"故障",
               r"潰れ", r"液漏れ", r"傷が", r"(?:動か|使え|点か|充電でき|電源が入ら)なくな", r"もう使えな"],
        "zh": [r"破损", r"坏了", r"坏的", r"损坏", r"损毁", r"破烂", r"碎了", r"裂了", r"裂开", r"划痕", r"压坏", r"摔坏",
               r"次品", r"漏液", r"瑕疵", r"坏掉", r"(?:不能|没法|无法)(?:再)?用了", r"用不了了",
               r"不(?:工作|转|亮|走)了", r"(?<![判中间诊垄])断了", r"掉了一", r"脱落"],
        "ko": [r"파손", r"깨짐", r"깨져", r"불량", r"고장"],
        "nl": [r"kapot\w*", r"beschadigd\w*", r"gebroken", r"gebarsten", r"deuk\w*",
               r"gekrast", r"lekt", r"lekte",
               # "defect" alone is English and Spanish "defecto" is a flaw: only Dutch forms
               r"(?:is|was|raakte|ging) defect", r"defecte",
               # not "een stuk" (a piece, "a lot"): only "ging ... stuk" and "is stuk."
               r"(?:ging|gaat|gingen) (?:\w+ ){0,3}stuk",
               r"(?:is|was|zijn|waren) (?:al |helemaal |meteen |direct )?stuk(?=\s*[.!,;]|\s*$)",
               r"werkt(?:e)? niet meer",
               r"doet het niet meer"],
        "pl": [r"uszkodzon\w*", r"zepsut\w*", r"zepsuł\w*", r"pęknięt\w*", r"pękł\w*",
               r"połaman\w*", r"rozbit\w*", r"porysowan\w*", r"wgniecion\w*", r"wadliw\w*",
               r"przestał\w* działać", r"już nie działa"],
        "tr": [r"kırık", r"kırıl\w*", r"hasarlı", r"hasar gör\w*", r"çatla\w*", r"çizik\w*",
               r"ezik\w*", r"ezil\w*", r"bozuk", r"bozul\w*", r"arızalı", r"defolu",
               r"çalışmaz oldu"],
        "sv": [r"trasig\w*", r"skadad\w*", r"sönder\w*", r"sprucken", r"spräckt\w*",
               r"repig\w*", r"bucklig\w*", r"defekt\w*", r"läcker ut", r"läckte",  # "läcker" alone: tasty
               r"slutade (?:att )?fungera", r"fungerar inte längre"],
        # "lekker" is left out: Dutch for tasty
        "no": [r"ødelagt\w*", r"(?:gikk|går|var|er|kom) (?:helt )?i stykker", r"knust(?:e)?",
               r"sprukket", r"revnet", r"skadet(?:e)?", r"beskadig\w*", r"ripete", r"bulket",
               r"utett", r"virker ikke (?:lenger|mer)", r"sluttet å (?:virke|fungere)"],
        "da": [r"ødelagt\w*", r"(?:gik|går|var|er|kom) (?:helt )?i stykker", r"knust(?:e)?",
               r"revnet", r"beskadig\w*", r"ridset", r"bulet", r"utæt",
               r"virker ikke (?:længere|mere)", r"holdt op med at (?:virke|fungere)"],
    },
    "delay": {
        "en": [r"(?:arrived|came|delivered|shipped|delivery was|shipping was)(?: \w+){0,3} late",
               r"late (?:delivery|arrival|shipment)", r"\d+ (?:days?|weeks?) late", r"delayed",
               r"delays?", r"never (?:arrived|received|came|showed up|delivered)",
               r"(?:hasn't|haven't|has not|have not|did not|didn't|still not|not yet) (?:yet )?(?:arrived|received|come|been delivered)",
               r"still waiting", r"took (?:\w+ )?(?:weeks|months|forever)",
               r"lost in (?:transit|the mail|the post)", r"slow (?:shipping|delivery)"],
        "de": [r"verspätung\w*", r"verspätet\w*", r"zu spät", r"nie angekommen",
               r"nicht angekommen", r"nie erhalten", r"noch nicht (?:angekommen|erhalten|geliefert)",
               r"immer noch nicht", r"lange lieferzeit", r"wochenlang", r"lieferung dauerte"],
        "fr": [r"retard\w*", r"jamais (?:reçu|arrivé)e?", r"toujours pas (?:reçu|arrivé|livré)e?",
               r"pas (?:encore )?(?:reçu|arrivé|livré)e?", r"livraison (?:très )?lente"],
        "es": [r"retras\w*", r"(?:llegó|llego|entregado|entregaron) tarde", r"nunca (?:llegó|llego|recibí|recibi)",
               r"no (?:ha )?(?:llegado|llegó|llego)", r"sigo esperando", r"envío lento", r"demora\w*"],
        "it": [r"ritard\w*", r"mai (?:arrivat|ricevut)[oa]", r"non (?:è )?(?:ancora )?arrivat[oa]",
               r"ancora in attesa", r"spedizione lenta"],
        "pt": [r"atras\w*", r"nunca (?:chegou|recebi)", r"n[aã]o chegou", r"ainda (?:esperando|aguardando)",
               r"entrega lenta", r"demorou"],
        "ru": [r"задерж\w*", r"опозда\w*", r"не приш[её]л", r"не получил\w*", r"долго ш[её]л",
               r"долгая доставка"],
        "ar": [r"تأخير", r"متأخر\w*", r"لم يصل", r"لم أستلم"],
        "ja": [r"遅延", r"遅れ", r"届(?:かない|きません|いていない|いてない|いていません|いておりません|いてません)", r"未着",
               r"(?:配送|発送|到着|配達)が遅"],
        "zh": [r"延迟", r"迟迟", r"还没到", r"没收到", r"未收到", r"物流(?:太|很|非常)?慢",
               r"发货(?:太|很|非常)?慢", r"等了很久", r"延误", r"收不到",
               r"\d+天才(?:到|送达|收到)"],
        "ko": [r"배송 지연", r"늦게 (?:도착|왔)", r"안 왔", r"도착하지 않"],
        "nl": [r"vertraging\w*", r"vertraagd\w*", r"te laat", r"nooit (?:aangekomen|ontvangen|geleverd)",
               r"(?:nog )?(?:steeds )?niet (?:aangekomen|ontvangen|geleverd|binnen)",
               r"wacht(?:en)? nog steeds", r"lange levertijd"],
        "pl": [r"opóźnieni\w*", r"opóźnion\w*", r"spóźnion\w*",
               r"(?:nigdy )?nie (?:dotarł\w*|doszł\w*|doszedł|przyszł\w*|przyszedł)",
               r"(?:nadal|wciąż|ciągle) czekam", r"długo (?:szła|szedł|szło|szły)"],
        "tr": [r"gecik\w*", r"geç (?:geldi|ulaştı|teslim\w*)", r"(?:hâlâ |hala )?gelmedi",
               r"ulaşmadı", r"teslim edilmedi", r"kargo (?:çok )?yavaş"],
        "sv": [r"försen\w*", r"för sent", r"kom aldrig", r"aldrig (?:kommit|levererad\w*|fått)",
               r"har (?:fortfarande )?inte (?:kommit|fått|levererats)", r"väntar fortfarande",
               r"lång leveranstid"],
        "no": [r"forsinke\w*", r"(?:kom|ankom|levert|kommet) for sent",
               r"aldri (?:kommet|mottatt|levert|fått)",
               r"har (?:fortsatt |enda )?ikke (?:kommet|mottatt|fått)",
               r"venter (?:fortsatt|enda)", r"lang leveringstid"],
        "da": [r"forsinke\w*", r"(?:kom|ankom|leveret|kommet) for sent",
               r"aldrig (?:kommet|modtaget|leveret|fået)",
               r"har (?:stadig |endnu )?ikke (?:modtaget|fået)",
               r"venter (?:stadig|endnu)", r"lang leveringstid"],
    },
}

# Words that cancel a match when they stand just before it in the same clause ("not fake").
NEGATION_WORDS = {
    "not", "no", "never", "isn't", "wasn't", "aren't", "nothing", "without",
    "nicht", "kein", "keine", "keinen", "keinerlei", "ohne",
    "pas", "ni", "sans", "aucun", "aucune",
    "sin", "nada", "ningún", "ninguna", "non", "senza", "nessun", "nessuna",
    "não", "nao", "nem", "sem", "nenhum", "nenhuma", "не", "без", "لا", "ليس", "غير",
    "niet", "geen", "zonder", "nie", "bez", "żaden", "żadnych", "żadnego", "inte", "ingen",
    "inga", "utan", "ikke", "uten", "uden", "aldri", "intet", "inget",
}
# Negations written after the phrase in Latin script (Turkish: "sahte değil", "hasar yok").
NEGATION_AFTER_WORDS = {"değil", "değildi", "değildir", "değiller", "yok", "yoktu"}
# CJK negations written right before (zh) or right after (ja) the phrase.
CJK_NEGATION_BEFORE = ("不是", "并非", "没有", "并不是", "不", "無", "无", "以为是", "以为")
CJK_NEGATION_AFTER = ("ではない", "じゃない", "ではありません", "ではなかった", "じゃなかった", "なし", "無し",
                      # 「偽物かと思ったら…」: the buyer feared it and was proved wrong
                      "かと思ったら", "かと思いきや", "かと思いましたが", "かと思った", "かと心配")
# A counterfeit word that is about the reviews, not the item ("fake reviews", "レビューは偽物").
REVIEW_WORDS = {
    "review", "reviews", "rating", "ratings", "bewertung", "bewertungen", "rezension",
    "rezensionen", "commentaires", "évaluations", "reseñas", "opiniones", "valoraciones",
    "comentarios", "recensioni", "avaliações", "comentários", "отзывы", "отзыв",
    "recensies", "beoordelingen", "opinie", "recenzje", "oceny", "yorum", "yorumlar",
    "recensioner", "omdömen", "anmeldelse", "anmeldelser", "anmeldelsene", "anmeldelserne",
    "vurderinger",
}
CJK_REVIEW_WORDS = ("レビュー", "評価", "口コミ", "サクラ", "评论", "评价", "好评", "刷单", "刷评")
CJK_LINKS = "とのはがでもいう的是说都里中"  # particles between the word and the review word
