"""Message texts: what customers write, what agents and the AI agent answer.

A text classifier is trained on the customers' first messages later, so each inquiry has
several phrasings (and one or two per non-English language) with slots filled from small
value lists. Rendering happens once per run into pools; the hot path only picks and
concatenates strings.
"""

from __future__ import annotations

from random import Random

from deskpulse.generator.org import INQUIRIES, LANGUAGES

# Customer opening messages, per inquiry. Slots: {order} {amount} {product} {plan} {date}
# {app} {error} {carrier} {integration} {card}.
OPENINGS: dict[str, tuple[str, ...]] = {
    "order_status": (
        "where is my order {order}? It still says processing.",
        "can you tell me the status of order {order}? I ordered it on {date}.",
        "I haven't received any update on my order {order}, has it shipped yet?",
        "my order {order} shows no tracking number. When will it be sent?",
    ),
    "shipping_delay": (
        "my package with {carrier} was supposed to arrive on {date} and it's still not here.",
        "order {order} is late. Tracking has not moved for five days.",
        "the delivery of my {product} is delayed again, what is going on?",
        "{carrier} says the parcel is held at the depot. Order {order}. Why the delay?",
    ),
    "delivery_damage": (
        "my {product} arrived broken, the box was crushed. Order {order}.",
        "the item in order {order} is damaged, the screen is cracked. I'd like a replacement.",
        "received my {product} today but it's scratched and a part is missing.",
    ),
    "return_request": (
        "I'd like to return the {product} from order {order}, it doesn't fit my needs.",
        "how do I send back order {order}? I need a return label.",
        "can I still return my {product}? I bought it on {date}.",
    ),
    "product_question": (
        "does the {product} work with {integration}?",
        "what's the difference between the {plan} plan and the Business plan?",
        "is the {product} available in black, and does it come with a warranty?",
        "quick question: can I use the {product} outside the EU?",
    ),
    "complaint": (
        "this is the third time I'm writing about this and nobody helps. Very disappointed.",
        "your service has been terrible. I waited two weeks for {order} and no one answers.",
        "I am extremely unhappy with how my last ticket was handled. I want to speak to a manager.",
        "honestly the worst support experience I've had. Order {order} is still a mess.",
    ),
    "password_reset": (
        "I forgot my password and the reset email never arrives.",
        "the password reset link says it has expired, can you send a new one?",
        "how do I reset my password on {app}?",
        "I can't change my password, it keeps saying the link is invalid.",
    ),
    "account_access": (
        "I'm locked out of my account after too many login attempts.",
        "I can't log in, it says {error} and my two-factor codes don't work.",
        "my account was suspended and I don't know why. I can't access anything.",
        "I lost my phone with the authenticator app and can't sign in anymore.",
    ),
    "cancel_subscription": (
        "please cancel my subscription, I don't need it anymore.",
        "how do I cancel the {plan} plan before it renews on {date}?",
        "I want to cancel and make sure I'm not charged again.",
        "cancel my account please, the {plan} plan is too expensive for us.",
    ),
    "address_change": (
        "I need to change the delivery address for order {order}.",
        "I moved, how do I update my shipping address?",
        "can you update the billing address on my account? It's wrong on the invoice.",
    ),
    "refund_request": (
        "I'd like a refund for order {order}, {amount}.",
        "I was promised a refund of {amount} two weeks ago and still haven't got it.",
        "please refund the {plan} plan, I cancelled on {date} but was charged anyway.",
        "when will my refund for {order} be processed?",
    ),
    "billing_dispute": (
        "I was charged {amount} twice this month on my {card}.",
        "there's a charge of {amount} I don't recognise. I never agreed to this.",
        "you billed me for the {plan} plan but I'm on the free plan. Please fix.",
        "the amount on my statement ({amount}) doesn't match my invoice.",
    ),
    "payment_failed": (
        "my payment keeps failing with my {card}, but the card is fine.",
        "I got an email that my payment failed. How do I update my card?",
        "checkout fails with {error} when I try to pay {amount}.",
        "the renewal payment failed and now my account is limited.",
    ),
    "change_plan": (
        "I want to upgrade from {plan} to Business. How does pricing work mid-cycle?",
        "can I downgrade to the {plan} plan at the end of this month?",
        "how do I switch our team to annual billing?",
        "we need more seats, can we change our plan today?",
    ),
    "invoice_request": (
        "can you send me the invoice for {date}? I need it for accounting.",
        "I need a copy of invoice for order {order} with our VAT number on it.",
        "where can I download my invoices?",
        "please resend the invoice for {amount}, our finance team lost it.",
    ),
    "technical_issue": (
        "{app} keeps crashing when I open the dashboard.",
        "I get {error} every time I try to save my settings.",
        "the sync has stopped working since yesterday, data is not updating.",
        "pages load really slowly and sometimes I just see {error}.",
    ),
    "bug_report": (
        "I think I found a bug: the export button does nothing in {app}.",
        "bug: dates show in the wrong timezone on the reports page.",
        "when I filter by {product} the list goes blank. Looks like a bug. {error} in the console.",
        "the total in the cart is wrong when I apply a discount code, it's a bug.",
    ),
    "feature_request": (
        "it would be great if you supported dark mode in {app}.",
        "feature request: please add an integration with {integration}.",
        "could you add a way to export reports as PDF?",
        "any plans to support multiple currencies? We really need it.",
    ),
    "integration_setup": (
        "I'm trying to connect {integration} but the authorization fails with {error}.",
        "how do I set up the {integration} integration? The docs seem outdated.",
        "our {integration} webhook stopped receiving events after we changed the API key.",
        "the {integration} connector imports duplicates. How do I configure it properly?",
    ),
    "data_export": (
        "how can I export all my data as CSV?",
        "the data export has been running for hours and never finishes.",
        "I need a full export of our account data for a GDPR request.",
        "the exported file is missing the {date} records.",
    ),
}

# One or two opening phrasings per inquiry in the other languages.
OPENINGS_I18N: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "order_status": ("¿dónde está mi pedido {order}? Sigue en procesamiento.",),
        "shipping_delay": ("mi paquete de {carrier} tenía que llegar el {date} y no ha llegado.",),
        "delivery_damage": ("mi {product} llegó roto. Pedido {order}.",),
        "return_request": ("quiero devolver el {product} del pedido {order}.",),
        "product_question": ("¿el {product} funciona con {integration}?",),
        "complaint": ("es la tercera vez que escribo y nadie me ayuda. Muy decepcionado.",),
        "password_reset": ("olvidé mi contraseña y no me llega el correo para restablecerla.",),
        "account_access": ("no puedo entrar en mi cuenta, aparece {error}.",),
        "cancel_subscription": ("quiero cancelar mi suscripción al plan {plan}.",),
        "address_change": ("necesito cambiar la dirección de entrega del pedido {order}.",),
        "refund_request": ("quiero un reembolso de {amount} por el pedido {order}.",),
        "billing_dispute": ("me han cobrado {amount} dos veces en mi {card}.",),
        "payment_failed": ("el pago con mi {card} sigue fallando.",),
        "change_plan": ("quiero cambiar al plan {plan}, ¿cómo se calcula el precio?",),
        "invoice_request": ("¿me pueden enviar la factura del {date}?",),
        "technical_issue": ("la aplicación se cierra sola al abrir el panel, error {error}.",),
        "bug_report": ("creo que hay un error: el botón de exportar no hace nada.",),
        "feature_request": ("sería genial tener una integración con {integration}.",),
        "integration_setup": ("no consigo conectar {integration}, falla con {error}.",),
        "data_export": ("¿cómo exporto todos mis datos en CSV?",),
    },
    "de": {
        "order_status": ("wo ist meine Bestellung {order}? Sie steht noch auf in Bearbeitung.",),
        "shipping_delay": (
            "mein Paket mit {carrier} sollte am {date} kommen und ist immer noch nicht da.",
        ),
        "delivery_damage": ("mein {product} ist beschädigt angekommen. Bestellung {order}.",),
        "return_request": ("ich möchte den {product} aus Bestellung {order} zurücksenden.",),
        "product_question": ("funktioniert der {product} mit {integration}?",),
        "complaint": ("ich schreibe zum dritten Mal und niemand hilft mir. Sehr enttäuschend.",),
        "password_reset": (
            "ich habe mein Passwort vergessen und die Mail zum Zurücksetzen kommt nicht an.",
        ),
        "account_access": ("ich komme nicht mehr in mein Konto, es erscheint {error}.",),
        "cancel_subscription": ("bitte kündigen Sie mein Abo für den {plan}-Tarif.",),
        "address_change": ("ich muss die Lieferadresse für Bestellung {order} ändern.",),
        "refund_request": ("ich möchte eine Rückerstattung von {amount} für Bestellung {order}.",),
        "billing_dispute": ("mir wurden {amount} doppelt von meiner {card} abgebucht.",),
        "payment_failed": ("die Zahlung mit meiner {card} schlägt immer wieder fehl.",),
        "change_plan": ("ich möchte auf den {plan}-Tarif wechseln, wie wird das berechnet?",),
        "invoice_request": ("können Sie mir die Rechnung vom {date} schicken?",),
        "technical_issue": ("die App stürzt beim Öffnen des Dashboards ab, Fehler {error}.",),
        "bug_report": ("ich glaube, das ist ein Bug: der Export-Button reagiert nicht.",),
        "feature_request": ("eine Integration mit {integration} wäre super.",),
        "integration_setup": ("die Verbindung mit {integration} schlägt fehl: {error}.",),
        "data_export": ("wie kann ich alle meine Daten als CSV exportieren?",),
    },
    "fr": {
        "order_status": ("où en est ma commande {order} ? Elle est toujours en traitement.",),
        "shipping_delay": (
            "mon colis {carrier} devait arriver le {date} et il n'est toujours pas là.",
        ),
        "delivery_damage": ("mon {product} est arrivé cassé. Commande {order}.",),
        "return_request": ("je voudrais retourner le {product} de la commande {order}.",),
        "product_question": ("est-ce que le {product} fonctionne avec {integration} ?",),
        "complaint": ("c'est la troisième fois que j'écris et personne ne répond. Très déçu.",),
        "password_reset": (
            "j'ai oublié mon mot de passe et l'e-mail de réinitialisation n'arrive pas.",
        ),
        "account_access": ("je n'arrive plus à me connecter, j'ai l'erreur {error}.",),
        "cancel_subscription": ("merci de résilier mon abonnement {plan}.",),
        "address_change": ("je dois changer l'adresse de livraison de la commande {order}.",),
        "refund_request": ("je souhaite un remboursement de {amount} pour la commande {order}.",),
        "billing_dispute": ("j'ai été débité deux fois de {amount} sur ma {card}.",),
        "payment_failed": ("le paiement avec ma {card} échoue à chaque fois.",),
        "change_plan": ("je veux passer au forfait {plan}, comment est calculé le prix ?",),
        "invoice_request": ("pouvez-vous m'envoyer la facture du {date} ?",),
        "technical_issue": (
            "l'application plante à l'ouverture du tableau de bord, erreur {error}.",
        ),
        "bug_report": ("je crois qu'il y a un bug : le bouton d'export ne fait rien.",),
        "feature_request": ("ce serait bien d'avoir une intégration avec {integration}.",),
        "integration_setup": ("la connexion à {integration} échoue avec {error}.",),
        "data_export": ("comment exporter toutes mes données en CSV ?",),
    },
}

GREETINGS: dict[str, tuple[str, ...]] = {
    "en": ("Hi, ", "Hello, ", "Hey, ", "Hi there, ", "Good morning, ", "", "", "Hello team, "),
    "es": ("Hola, ", "Buenos días, ", ""),
    "de": ("Hallo, ", "Guten Tag, ", ""),
    "fr": ("Bonjour, ", "Salut, ", ""),
}
CLOSINGS: dict[str, tuple[str, ...]] = {
    "en": ("", "", " Thanks!", " Thanks in advance.", " Please help.", " Regards", " Cheers"),
    "es": ("", " Gracias.", " Saludos."),
    "de": ("", " Danke!", " Viele Grüße"),
    "fr": ("", " Merci.", " Cordialement"),
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "order_status": ("Order status", "Where is my order?", "Order update"),
    "shipping_delay": ("Delivery delayed", "Package late", "Shipping delay"),
    "delivery_damage": ("Damaged item", "Item arrived broken", "Damaged delivery"),
    "return_request": ("Return", "Return label needed", "Returning an item"),
    "product_question": ("Question about product", "Pre-sales question", "Quick question"),
    "complaint": ("Complaint", "Very unhappy", "Terrible service"),
    "password_reset": ("Password reset", "Can't reset password", "Forgot password"),
    "account_access": ("Locked out", "Can't log in", "Account access"),
    "cancel_subscription": ("Cancel subscription", "Cancellation", "Please cancel"),
    "address_change": ("Change address", "Wrong address", "Address update"),
    "refund_request": ("Refund", "Refund request", "Where is my refund?"),
    "billing_dispute": ("Double charge", "Unknown charge", "Billing error"),
    "payment_failed": ("Payment failed", "Card declined", "Payment problem"),
    "change_plan": ("Plan change", "Upgrade", "Downgrade"),
    "invoice_request": ("Invoice", "Invoice copy", "VAT invoice"),
    "technical_issue": ("App not working", "Error message", "Sync problem"),
    "bug_report": ("Bug", "Possible bug", "Something is broken"),
    "feature_request": ("Feature request", "Suggestion", "Idea"),
    "integration_setup": ("Integration help", "Connector setup", "Webhook problem"),
    "data_export": ("Data export", "Export stuck", "GDPR export"),
}

SLOTS: dict[str, tuple[str, ...]] = {
    "product": (
        "wireless headphones", "smart thermostat", "standing desk", "coffee grinder",
        "fitness tracker", "router", "office chair", "e-reader", "webcam", "blender",
    ),
    "plan": ("Starter", "Pro", "Team", "Plus"),
    "app": ("the iOS app", "the Android app", "the web dashboard", "the desktop app"),
    "error": ("error 502", "ERR_TIMEOUT", "a blank screen", "error 403", "'something went wrong'"),
    "carrier": ("DHL", "UPS", "FedEx", "USPS", "DPD", "La Poste"),
    "integration": ("Salesforce", "Slack", "Shopify", "Zapier", "HubSpot", "QuickBooks"),
    "card": ("Visa card", "Mastercard", "Amex card", "debit card"),
    "date": ("March 3", "the 12th", "last Monday", "June 21", "the 1st", "last week"),
}  # fmt: skip

FOLLOW_UPS: tuple[str, ...] = (
    "Thanks, but it still doesn't work.",
    "I tried that, same problem.",
    "Here is the screenshot you asked for.",
    "The order number is in my first message.",
    "OK, I did that. What now?",
    "Sorry, I don't understand. Can you explain?",
    "It's my work email, the one I'm writing from.",
    "Yes, that's correct.",
    "Any update on this?",
    "Great, one more thing though.",
)
THANKS: tuple[str, ...] = (
    "Thanks, that solved it!",
    "Perfect, thank you.",
    "Great, all sorted.",
    "Thanks for the quick help.",
    "OK thanks.",
)
HUMAN_PLEASE: tuple[str, ...] = (
    "Can I talk to a real person please?",
    "I want to speak to a human.",
    "This isn't helping. Agent please.",
    "Please connect me with someone from support.",
)
REOPENS: tuple[str, ...] = (
    "Hi again, the problem is back.",
    "This isn't fixed, it happened again today.",
    "Sorry to reopen this, but I still haven't received anything.",
    "The solution worked for a day, now it's broken again.",
    "Following up: nothing has changed on my side.",
)

AGENT_FIRST: tuple[str, ...] = (
    "Thanks for reaching out! I'm looking into {topic} now.",
    "Hi, sorry for the trouble. Let me check {topic} for you.",
    "Thanks for your patience. I've pulled up {topic}.",
    "Hello! I can help with {topic}. One moment while I check.",
)
AGENT_NEXT: tuple[str, ...] = (
    "Could you confirm the email address on the account?",
    "I've made the change on our side. Can you try again?",
    "Thanks. I've escalated this internally and will update you shortly.",
    "Could you send a screenshot of what you see?",
    "I've sent you the details by email as well.",
    "That's done. Anything else I can help with?",
    "I've issued that for you; it can take 3-5 business days to show.",
)
AI_FIRST: tuple[str, ...] = (
    "Hi, I'm {name}, the virtual assistant. I can help with {topic}.",
    "Hello! {name} here. Let me look up {topic} for you.",
    "Thanks for your message. I'm {name}, an AI assistant; I'll check {topic}.",
)
AI_NEXT: tuple[str, ...] = (
    "Here's what I found: you can do this under Settings > Account.",
    "I've checked your account and everything looks in order now.",
    "According to our records the status was updated today.",
    "I can help with that. Please follow the link I just sent.",
)
AI_CONCISE: tuple[str, ...] = (
    "Done: it's updated.",
    "Settings > Account > Billing.",
    "Status: shipped today.",
    "Link sent. Reply if it fails.",
)
VOICE_ANSWER = "Call answered: {topic}."
NOTES: tuple[str, ...] = (
    "Customer is a repeat contact, handle with care.",
    "Checked the logs, looks like the known issue from this week.",
    "Waiting on the warehouse to confirm.",
    "Refund approved by team lead.",
    "Can someone double-check this before I reply?",
)
MENTION_NOTES: tuple[str, ...] = (
    "{mention} can you take a look at this one?",
    "{mention} you handled a similar case last week, any tips?",
    "{mention} FYI, this customer asked for you.",
    "{mention} need your approval here.",
)
CSAT_COMMENTS: dict[int, tuple[str, ...]] = {
    1: ("Terrible, nobody solved anything.", "Took forever.", "Still not fixed."),
    2: ("Slow and unhelpful.", "Had to repeat myself several times."),
    3: ("OK I guess.", "Solved in the end but slow."),
    4: ("Good help, thanks.", "Fine, quick enough."),
    5: ("Super helpful!", "Fast and friendly, thank you.", "Great service."),
}


def _order(rng: Random) -> str:
    return f"#{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randrange(10_000, 99_999)}"


def _amount(rng: Random) -> str:
    return f"${rng.randrange(5, 400)}.{rng.randrange(0, 100):02d}"


def _render(template: str, rng: Random) -> str:
    values = {name: rng.choice(options) for name, options in SLOTS.items()}
    values["order"] = _order(rng)
    values["amount"] = _amount(rng)
    return template.format(**values)


class TextBank:
    """Pre-rendered message pools, indexed by inquiry and language."""

    def __init__(self, rng: Random, variants: int = 48) -> None:
        self.openings: list[dict[str, tuple[str, ...]]] = []
        self.subjects: list[tuple[str, ...]] = []
        self.agent_first: list[tuple[str, ...]] = []
        self.voice_answer: list[str] = []
        for inquiry in INQUIRIES:
            by_language: dict[str, tuple[str, ...]] = {}
            for language in LANGUAGES:
                templates = (
                    OPENINGS[inquiry.name]
                    if language == "en"
                    else OPENINGS_I18N[language][inquiry.name]
                )
                greetings = GREETINGS[language]
                closings = CLOSINGS[language]
                rendered: list[str] = []
                for _ in range(variants):
                    body = _render(rng.choice(templates), rng)
                    greeting = rng.choice(greetings)
                    # Sentence case when there is no greeting in front of the body.
                    if not greeting:
                        body = body[0].upper() + body[1:]
                    rendered.append(greeting + body + rng.choice(closings))
                by_language[language] = tuple(rendered)
            self.openings.append(by_language)
            self.subjects.append(SUBJECTS[inquiry.name])
            self.agent_first.append(tuple(t.format(topic=inquiry.topic) for t in AGENT_FIRST))
            self.voice_answer.append(VOICE_ANSWER.format(topic=inquiry.topic))

    def ai_first(self, inquiry: int, name: str) -> tuple[str, ...]:
        topic = INQUIRIES[inquiry].topic
        return tuple(t.format(name=name, topic=topic) for t in AI_FIRST)
