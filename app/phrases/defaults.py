"""The purposes routines send texts for, and the region's default texts (seeded as regional templates).

Tone per HA-tone: respectful, no capitals, exclamation marks or abbreviations. Every text that ends
or delays a contact advises to seek care if needed (OG-6.1-e, OG-6.1-g). No text names the unit:
`{unit}`, `{unit_phone}` and `{unit_address}` are the notification composer's to fill, and it leaves
them out for protected identities (SEC-protected-sms).
"""

from __future__ import annotations

# Shared closing advice: where to turn when waiting is not safe.
_SEEK_CARE = "Om du blir sämre och behöver vård, ring 1177 för sjukvårdsrådgivning. Vid livshotande tillstånd, ring 112."

# purpose key -> (Swedish title shown to staff, default text)
DEFAULTS: dict[str, tuple[str, str]] = {
    "case_received": (
        "Ärendet är mottaget",
        "Hej {patient_first_name}. Vi har tagit emot ditt ärende och börjar hantera det så snart vi kan. "
        "Du får ett meddelande när vi har svarat. " + _SEEK_CARE,
    ),
    "first_message": (
        "Första meddelandet",
        "Hej {patient_first_name}. Jag heter {staff_first_name} och arbetar som {staff_role}. "
        "Jag har läst det du har skrivit och tar hand om ditt ärende nu.",
    ),
    "closing": (  # OG-6.1-g: the closing text advises to seek care if needed
        "Avslut",
        "Tack för att du hörde av dig. Vi avslutar nu ärendet. Om du behöver vård igen eller om dina besvär "
        "blir värre är du välkommen att söka vård på nytt, till exempel via 1177 direkt eller genom att ringa "
        "1177 för sjukvårdsrådgivning. Vid livshotande tillstånd, ring 112.",
    ),
    "closing_unanswered": (  # OG-6.1-g, OG-6.1-h
        "Avslut utan svar",
        "Hej {patient_first_name}. Vi har försökt nå dig men inte fått något svar, så vi avslutar ärendet nu. "
        "Om du fortfarande behöver vård är du välkommen att söka vård på nytt via 1177 direkt eller ringa 1177 "
        "för sjukvårdsrådgivning. Vid livshotande tillstånd, ring 112.",
    ),
    "next_weekday": (  # OG-6.1-e
        "Hanteras nästa vardag",
        "Hej {patient_first_name}. Vi hinner tyvärr inte hantera ditt ärende i dag. Vi tar hand om det nästa "
        "vardag, tidigast {earliest}. " + _SEEK_CARE,
    ),
    "stangning": (  # HA-close-day, HA-close-plus1
        "Stängning",
        "Hej {patient_first_name}. Chatten stänger nu för i dag. Ditt ärende finns kvar hos oss, och du kan "
        "fortfarande svara här. Vi läser ditt svar när vi öppnar igen {date}. " + _SEEK_CARE,
    ),
    "time_next_day": (  # HA-no-times: the chat stays with the unit; the patient is not sent elsewhere
        "Tid erbjuds nästa dag",
        "Hej {patient_first_name}. Vi har ingen ledig tid att erbjuda dig i dag. Ditt ärende finns kvar hos oss, "
        "och vi hör av oss nästa vardag med en tid. Du behöver inte göra något. Vid livshotande tillstånd, ring 112.",
    ),
    "high_load": (  # OG-9.1, OG-10.1-d
        "Hög belastning",
        "Just nu är det många som söker vård hos oss, och det kan därför ta längre tid än vanligt innan du "
        "får svar. Ditt ärende finns kvar och vi svarar så snart vi kan. " + _SEEK_CARE,
    ),
    "handover": (  # OG-10.2-c
        "Överlämning",
        "Hej {patient_first_name}. Ditt ärende lämnas nu över till {handed_to}, som fortsätter kontakten "
        "med dig. Du behöver inte göra något, vi hör av oss.",
    ),
    "reminder": (  # HA-remind: goes by SMS, so it names nobody
        "Påminnelse",
        "Hej. Du har ett meddelande från vården som väntar på ditt svar. Logga in på 1177.se för att läsa "
        "och svara.",
    ),
    "consent_meeting_form": (  # OG-8.3: consent, and the cost is always stated
        "Byte av mötesform",
        "Vi föreslår att vi fortsätter ditt ärende via {meeting_form}. Ett sådant besök kostar {cost} kronor. "
        "Vill du det? Svara med knapparna Ja eller Nej i ditt ärende.",
    ),
    "consent_handover": (  # HA-handover-consent
        "Samtycke till överlämning",
        "För att du ska få rätt hjälp vill vi lämna över ditt ärende till {handed_to}. Går det bra för dig? "
        "Svara med knapparna Ja eller Nej i ditt ärende.",
    ),
    "form_sent": (  # OG-8.1
        "Formulär skickat",
        "Hej {patient_first_name}. Vi har skickat formuläret {form_name} till dig. Fyll gärna i det så snart "
        "du kan, så går vi igenom dina svar.",
    ),
    "image_request": (  # OG-11-f
        "Begäran om bild",
        "För att kunna bedöma dina besvär behöver vi se en bild. Ladda gärna upp en skarp bild i ärendet, "
        "tagen i gott ljus och på nära håll.",
    ),
    "protected_redirect": (  # HA-protected: names no unit, not even through a placeholder
        "Hänvisning vid skyddade personuppgifter",
        "Hej. Vi kan tyvärr inte hantera ditt ärende här. Sök vård via 1177.se eller besök din mottagning. "
        "Om det är brådskande, ring 1177 för sjukvårdsrådgivning. Vid livshotande tillstånd, ring 112.",
    ),
    "wrong_patient": (  # HA-behalf
        "Fel patient",
        "Hej. Vi kan tyvärr inte hantera ärendet, eftersom det gäller en annan person än den som är inloggad. "
        "Be den som behöver vård att själv logga in med sin egen e-legitimation och söka vård. Vi avslutar "
        "nu ärendet.",
    ),
    "admin_to_sok_vard": (  # OG-7-c
        "Hänvisning till Sök vård",
        "Hej {patient_first_name}. Ditt ärende handlar om vård och behöver bedömas av vårdpersonal. Skapa "
        "gärna ett nytt ärende via Sök vård i 1177 direkt, så hjälper vi dig där. Vi avslutar det här ärendet.",
    ),
    "admin_closing": (  # OG-7: an administrative matter is closed without a clinical word
        "Avslut av administrativt ärende",
        "Tack för att du hörde av dig. Ditt ärende är nu avslutat. Har du fler frågor är du välkommen att "
        "skicka ett nytt ärende.",
    ),
    "prescription_renewal": (  # OG-7-e
        "Förnya recept",
        "Hej {patient_first_name}. Recept förnyar du enklast via tjänsten Förnya recept på 1177.se. Där "
        "kommer din förfrågan direkt till rätt mottagning. Vi avslutar nu det här ärendet.",
    ),
    "reopen_possible": (  # OG-6.5
        "Möjlighet att svara efter avslut",
        "Har du frågor om samma besvär kan du svara i det här ärendet till och med {reopen_until}. Gäller det "
        "något nytt behöver du skapa ett nytt ärende.",
    ),
    # OG-3, HA-after-hours: the after-hours referral the routing table chose, shown at once on submitting
    "referral_112": (
        "Hänvisning till 112",
        "Utifrån dina svar bör du ringa 112 nu.",
    ),
    "referral_1177": (
        "Hänvisning till 1177",
        "Mottagningen har stängt. Utifrån dina svar bör du ringa 1177 för sjukvårdsrådgivning.",
    ),
    "referral_self_care": (
        "Hänvisning till egenvård",
        "Mottagningen har stängt. Läs om egenvård på 1177.se och kontakta oss igen om du inte blir bättre. "
        + _SEEK_CARE,
    ),
    "staffing_gap": (  # HA-chat-staff: to the head of unit and the overall responsible, not to patients
        "Ingen chattansvarig",
        "Det finns ingen namngiven chattansvarig under öppettiden {date} från klockan {time}. Planera in en "
        "ansvarig person för chatten.",
    ),
}

# The purposes routines send texts for; every template has one of them.
PURPOSES: dict[str, str] = {key: title for key, (title, _text) in DEFAULTS.items()}
