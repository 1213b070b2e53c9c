"""Seeded, reproducible generator of the NLU training corpus (JSONL).

Each row is ``{"text", "intent", "date_keys", "payload", "template", "split"}``. The labels come from the
generator itself: a template knows its intent, each date slot knows the keys of the expression it drew
(:mod:`.datephrases`), and the payload is the slot filler. The rule extractor is never consulted, so the corpus
measures it.

Variety: 20-40 templates per intent, slot fillers, number words vs digits, fillers ("uh", "hey jarvis",
"could you"), two surface styles (``asr``: lowercase, no punctuation; ``whisper``: capitalised, punctuated,
``3 p.m.``), small recognition slips (dropped/duplicated short words, to/two/too, for/four) applied only to
the template words, and negatives (no date, vague times, durations, past offsets, meals as topics).

The train/validation split is by template: every template id (``"reminder_set/07"``) lands wholly in one
split, about 20 % of each intent's templates in validation, chosen by a hash of the template text (not
the corpus seed), so the split does not move when the corpus seed changes or a template is added.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

from jarvis_desktop.nlu import datephrases as dg

# --------------------------------------------------------------------------------------------- fillers
TASKS = [
    "call mom", "take out the trash", "pick up the kids", "pay the electricity bill", "water the plants",
    "buy groceries", "send the report to Ana", "book a dentist appointment", "take my medicine", "feed the cat",
    "renew my passport", "check the oven", "email the landlord", "stretch", "charge my phone",
    "pick up the dry cleaning", "call the bank", "submit the tax form", "walk the dog", "move the car",
    "return the library books", "cancel the gym membership", "order more coffee", "prepare the slides",
    "text John happy birthday", "back up my laptop", "check on grandma", "drink some water",
    "lock the back door", "buy a birthday present for Sam", "join the standup call", "clean the bathroom",
    "refill the prescription", "pay rent", "reply to Maria", "update the spreadsheet", "practice guitar",
    "take a ten minute break", "order dinner", "make breakfast for the kids", "eat lunch",
    "call the plumber", "check the mail", "book flights to Rome", "finish the essay", "call David back",
    "bring the umbrella", "turn off the heater", "start the laundry", "read chapter four", "open the windows",
    "search for a new phone plan", "write a note to the teacher", "set up the new printer",
]
CONTACTS = ["Ana", "John", "Maria", "Sam", "David", "Priya", "the team", "my manager", "Dr. Lee", "Chen",
            "Olivia", "Tom", "the design team", "Fatima", "Lucas", "Emma", "the landlord", "Mike"]
EVENT_PATTERNS = ["meeting with {c}", "call with {c}", "coffee with {c}", "interview with {c}",
                  "lunch with {c}", "catch up with {c}", "review with {c}", "one on one with {c}"]
EVENTS = ["dentist appointment", "team standup", "project review", "doctor's appointment", "haircut",
          "parent teacher conference", "budget review", "yoga class", "sprint planning", "job interview",
          "car service", "book club", "birthday party", "tennis practice", "vet appointment", "demo day"]
APPS = ["firefox", "the browser", "chrome", "the terminal", "spotify", "vs code", "visual studio code",
        "the file manager", "files", "the calculator", "settings", "system settings", "thunderbird", "slack",
        "zoom", "libreoffice writer", "gimp", "the text editor", "gedit", "steam", "discord", "vlc", "obs",
        "the camera app", "youtube.com", "github.com", "gmail", "my email", "the music player",
        "the notes app", "the weather app", "the clock app", "the calendar app", "blender", "inkscape",
        "the downloads folder", "my documents folder", "wikipedia.org", "signal", "telegram"]
NOTES = [
    "buy milk", "the wifi password is on the fridge", "call the plumber about the leak",
    "ideas for the birthday party", "pick up eggs and bread", "my parking spot is level 3 row B",
    "remember to thank Maria", "the new project name is Phoenix", "book club reads Dune next",
    "check the car tire pressure", "gift ideas for Sam a scarf", "the recipe needs two cups of flour",
    "cancel netflix subscription", "open a savings account", "search for a new apartment",
    "the garage code is 4512", "Tom prefers tea not coffee", "renew the car insurance",
    "the meeting room moved to the third floor", "try the new ramen place", "password hint is the dog's name",
    "grandma's phone number changed", "bring snacks for the trip", "look into solar panels",
    "the printer needs new ink", "ask Priya about the budget", "dinner ideas pasta or curry",
    "the kids have a half day", "set the thermostat lower", "water bill was higher than usual",
]
QUERIES = [
    "python decorators", "the best pizza near me", "how to fix a leaking tap", "cheap flights to Lisbon",
    "rust borrow checker", "reviews of the new iphone", "symptoms of the flu", "open source licenses",
    "time zones in europe", "weather patterns in the amazon", "how to set a timer in python",
    "best note taking apps", "reminder apps for android", "lyrics to bohemian rhapsody",
    "train schedule to boston", "calories in an avocado", "who invented the telephone", "linux kernel news",
    "machine learning courses", "vegan dinner recipes", "breakfast places open now", "how tall is mount everest",
    "used bikes for sale", "the population of canada", "how to make sourdough", "latest football scores",
    "hotels in barcelona", "how to learn spanish fast", "jobs in data science", "best budget laptops",
    "how to remove a wine stain", "alarm clock reviews", "volume of a sphere formula", "kubernetes tutorial",
]
SONGS = ["bohemian rhapsody", "some jazz", "my workout playlist", "the beatles", "lo-fi beats", "taylor swift",
         "classical music", "hotel california", "daft punk", "radio paradise", "my discover weekly",
         "the news podcast", "something relaxing", "miles davis", "coldplay", "rain sounds", "the top hits",
         "beethoven's fifth symphony", "my liked songs", "some rock music"]
CONCEPTS = ["a transformer", "quantum computing", "photosynthesis", "the stock market", "machine learning",
            "black holes", "inflation", "the french revolution", "blockchain", "a neural network",
            "time dilation", "daylight saving time", "the weather on mars", "open source software",
            "the internet", "compound interest", "vitamin d", "the roman empire", "jazz music",
            "climate change", "the speed of light", "an alarm clock", "a search engine", "meditation",
            "the volume of a sphere", "a cpu cache", "the history of time zones", "note taking methods",
            "the theory of relativity", "how vaccines work", "gravity", "the immune system", "democracy",
            "the big bang", "recursion", "a calendar year", "the water cycle"]
COUNTRIES = ["france", "japan", "brazil", "kenya", "canada", "australia", "norway", "india", "mexico", "egypt"]
FILLER_PRE = ["hey jarvis", "jarvis", "uh", "um", "ok jarvis", "so", "okay", "hey", "jarvis uh", "um jarvis"]
POLITE_PRE = ["please", "could you", "can you", "would you", "could you please", "can you please"]
FILLER_POST = ["please", "thanks", "thank you", "for me"]
IMPERATIVE = {"remind", "set", "wake", "cancel", "delete", "open", "launch", "start", "take", "write",
              "search", "look", "play", "pause", "turn", "schedule", "add", "book", "put", "make", "find",
              "google", "show", "list", "stop", "mute", "skip", "tell", "remove", "clear", "create", "note",
              "jot", "run", "fire", "bring", "lower", "raise", "get", "give", "explain", "count", "time"}

# --------------------------------------------------------------------------------------------- templates
# Slots: {date} intent-policy date (may be empty), {when} date never empty, {day} a future day, {pday} a
# past or present day, {clock} a clock time without "at", {dur} a timer duration, {task} {note} {query}
# {app} {event} {song} {concept} {country} {n} fillers. The payload slot per intent is PAYLOAD_SLOT.
TEMPLATES: dict[str, list[str]] = {
    "reminder_set": [
        "remind me to {task} {date}", "{when} remind me to {task}", "remind me {when} to {task}",
        "set a reminder to {task} {date}", "don't let me forget to {task} {date}",
        "i need a reminder to {task} {when}", "create a reminder to {task} {date}",
        "reminder to {task} {when}", "can you remind me to {task} {when}", "remind me that i need to {task} {date}",
        "add a reminder {when} to {task}", "ping me {when} to {task}", "nudge me to {task} {when}",
        "make sure i {task} {when}", "give me a reminder to {task} {when}", "{when} i have to {task} remind me",
        "set a reminder for {when} to {task}", "remind me about {task} {when}", "i want to be reminded to {task} {date}",
        "put in a reminder to {task} {date}", "new reminder {task} {when}", "remember to {task} {when}",
        "alert me {when} to {task}", "could you set a reminder {when} so i {task}", "i must {task} {when} remind me",
        "please remind me {when} that i should {task}", "tell me to {task} {when}",
        "set up a reminder to {task} {when}", "don't forget to remind me to {task} {date}",
        "remind me {date} i need to {task}",
        "i'd like a reminder to {task} {when}", "remind me to {task}", "could you remind me {when} to {task}",
        "can you make sure i remember to {task} {when}", "i keep forgetting to {task} remind me {when}",
        "reminder {when} {task}", "set me a reminder to {task} {when}", "jog my memory {when} to {task}",
        "schedule a reminder to {task} {when}", "shoot me a reminder {when} to {task}",
        "i should {task} {when} can you remind me", "make a reminder for me to {task} {when}",
        "remind me once more {when} to {task}", "i'll need a heads up {when} to {task}", "heads up {when} to {task}",
        "flag it for me {when} that i need to {task}", "post a reminder {when} to {task}", "buzz me {when} to {task}",
        "remind me when it's {when} to {task}",
    ],
    "timer_set": [
        "set a timer for {dur}", "start a {durx} timer", "timer for {dur}", "countdown {dur}",
        "set the timer to {dur}", "start a countdown for {dur}", "{dur} timer", "put a timer on for {dur}",
        "set timer {dur}", "can you time {dur}", "start a timer for {dur}", "let me know when {dur} are up",
        "a {durx} timer please", "i need a timer for {dur}", "make a {durx} timer", "count down {dur}",
        "time {dur} for the pasta", "set a {durx} countdown", "begin a timer of {dur}",
        "new timer {dur}", "timer {dur} starting now", "give me a {durx} timer", "start timing {dur}",
        "set a kitchen timer for {dur}", "could you run a timer for {dur}", "i want a countdown of {dur}",
        "set a timer {dur}", "timer on {dur}", "could you start a {durx} timer", "run a {durx} timer",
        "i need to time {dur}", "countdown timer {dur}", "set a countdown timer for {dur}",
        "start the stopwatch countdown for {dur}", "time me for {dur}", "alert me when {dur} have passed",
        "set an egg timer for {dur}", "can you count down {dur} for me",
        "set a {durx} timer for the tea", "i'm cooking set a timer for {dur}", "timer please {dur}",
        "can i get a timer for {dur}", "start counting down {dur}", "ring when {dur} have gone by",
        "give me {dur} on the clock", "put {dur} on the timer",
    ],
    "alarm_set": [
        "wake me up {aw}", "set an alarm for {clock}", "set an alarm {aw}", "alarm at {clock}",
        "i need to be up {aw}", "wake me {aw}", "get me up {aw}", "set my alarm for {clock} {day}",
        "alarm for {clock} {day}", "{day} wake me up at {clock}", "create an alarm for {clock}",
        "i want an alarm {aw}", "set an alarm clock for {clock}", "please set the alarm for {clock}",
        "make an alarm {aw}", "add an alarm at {clock}", "alarm {aw}", "put an alarm on for {clock}",
        "i have to get up {aw} set an alarm", "set a wake up alarm {aw}", "wake up call {aw}",
        "could you wake me {aw}", "new alarm for {clock}", "set a morning alarm {aw}",
        "schedule an alarm {aw}", "buzz me awake {aw}",
        "i need to get up {aw}", "make sure i'm up {aw}", "i have to be awake {aw}", "set the alarm {aw}",
        "alarm clock {aw}", "wake up {aw}", "rouse me {aw}", "please get me out of bed {aw}",
        "set an alarm to wake me {aw}", "i want to wake up {aw}", "can you set my alarm {aw}",
        "turn on an alarm for {clock}", "set a wake-up alarm for {clock}",
        "i want to wake up {aw}", "ring the alarm {aw}", "set an alarm so i wake up {aw}", "i need waking up {aw}",
        "can you wake me up {aw}", "alarm me {aw}", "program an alarm for {clock}", "schedule a wake up {aw}",
    ],
    "schedule_query": [
        "what do i have {day}", "what's on my calendar {day}", "which alarms are set", "do i have any reminders {day}",
        "what's my schedule {day}", "show my reminders", "list my timers", "how much time is left on the timer",
        "am i free {day}", "any meetings {day}", "what's coming up {day}", "read me my agenda for {day}",
        "what did i have {pday}", "what was on my calendar {pday}", "what alarms do i have",
        "show me all my alarms", "do i have anything planned {day}", "what appointments do i have {day}",
        "is anything scheduled {day}", "what reminders are set", "list my events {day}", "how busy am i {day}",
        "what's next on my schedule", "tell me my plans for {day}", "which timers are running",
        "do i have meetings {pday}", "when is my next meeting", "any alarms set for {day}",
        "what's on the agenda {day}", "check my calendar {day}",
        "show my calendar {day}", "what's in my calendar {day}", "look at my schedule {day}",
        "list my reminders", "what events do i have {day}", "what's planned for {day}", "do i have plans {day}",
        "which reminders do i have", "read my schedule {day}", "any appointments {day}",
        "what meetings are on {day}", "show me my agenda", "is my calendar free {day}",
        "what's on for {day}", "do i have an alarm set",
        "when is my next appointment", "when's my next alarm", "what reminders do i have", "which reminders are active",
        "how long until my next meeting", "when is my dentist appointment", "what's the first thing {day}",
        "any {sobj} {day}", "what {sobj} do i have {day}", "list my {sobj}", "show me my {sobj} for {day}",
        "do i have {sobj} {day}", "tell me about my {sobj} {day}", "how many {sobj} do i have {day}",
        "what's happening {day}", "what am i doing {day}", "anything on the calendar {day}",
        "is there anything i need to do {day}", "what's my day look like {day}", "give me a rundown of {day}",
        "what have i got going on {day}", "are there any events {day}", "when's my next reminder",
    ],
    "schedule_remove": [
        "cancel my {clock} alarm", "stop the timer", "cancel the timer", "delete my reminders for {day}",
        "cancel {dayp} meeting", "turn off my alarm", "clear all alarms", "never mind the reminder",
        "call off the meeting {day}", "dismiss the alarm", "i don't need the {clock} alarm anymore",
        "remove the reminder {day}", "delete the {clock} alarm", "cancel all my timers", "scrap {dayp} appointment",
        "delete the event {day}", "get rid of my alarm for {clock}", "cancel the reminder to {task}",
        "remove my alarm", "kill the timer", "delete all reminders", "cancel everything {day}",
        "drop the {event} {day}", "cancel my {event}", "switch off the alarm", "stop the countdown",
        "take the {clock} alarm off", "undo that reminder",
        "delete the reminder about {task}", "remove my reminder to {task}", "cancel the alarm", "turn the alarm off",
        "end the timer", "stop the alarm", "delete my alarm for {clock}", "cancel my appointment {day}",
        "remove the {event} from my calendar", "forget the reminder", "cancel that timer", "erase my reminders",
        "clear my calendar {day}", "i don't need that reminder anymore",
        "delete that alarm", "stop my timer", "end the countdown", "cancel the meeting {day}",
        "cancel my {sobj} {day}", "delete all my {sobj}", "remove the {sobj} {day}", "clear my {sobj}",
        "get rid of all {sobj}",
        "cancel it", "scratch the {sobj} {day}", "i want to cancel my {sobj}", "abort the timer",
        "forget about the alarm", "don't wake me up {day}", "no alarm {day}", "skip my alarm {day}",
        "turn off all alarms", "call off the {event}",
    ],
    "calendar_set": [
        "schedule a {event} {when}", "put a {event} on my calendar {when}", "add a {event} to my calendar {when}",
        "book a {event} {when}", "set up a {event} {when}", "create an event {event} {when}",
        "{when} schedule a {event}", "add {event} {when} to the calendar", "i have a {event} {when} add it",
        "new calendar event {event} {when}", "plan a {event} {when}", "block time for a {event} {when}",
        "arrange a {event} {when}", "organize a {event} {when}", "calendar {event} {when}",
        "put {event} in my calendar for {when}", "make an appointment called {event} {when}",
        "can you schedule a {event} {when}", "pencil in a {event} {when}", "add an event called {event} {when}",
        "mark {when} for a {event} in my calendar", "i'd like to schedule a {event} {when}",
        "create a calendar entry for a {event} {when}", "slot a {event} into my calendar {when}",
        "save a {event} {when} in my calendar", "enter a {event} for {when}",
        "make a calendar event for a {event} {when}", "get a {event} on the calendar {when}",
        "schedule {event} {when}", "put {event} down for {when}", "i need to schedule a {event} {when}",
        "add an appointment {event} {when}", "register a {event} {when} in the calendar",
        "set up an appointment for a {event} {when}", "can you book me a {event} {when}",
        "i've got a {event} {when} put it in", "log a {event} {when}", "note a {event} on my calendar {when}",
        "set up time for a {event} {when}", "reserve {when} for a {event}",
        "add {event} to my schedule {when}", "put me down for a {event} {when}",
    ],
    "weather_query": [
        "what's the weather {date}", "will it rain {date}", "is it going to be cold {date}",
        "do i need an umbrella {date}", "how hot will it be {date}", "what's the forecast for {day}",
        "is it sunny outside", "weather", "how's the weather looking {date}", "will it snow {date}",
        "what's the temperature outside", "should i bring a jacket {date}", "is there a storm coming",
        "weather forecast {date}", "what was the weather like {pday}", "is it windy {date}",
        "how cold is it going to get {date}", "will it be warm enough for shorts {date}",
        "tell me the weather {date}", "what's the chance of rain {date}", "is it raining right now",
        "any thunderstorms {date}", "give me the forecast {date}", "how humid is it {date}",
        "will the sun be out {date}", "what's it like outside", "do i need sunscreen {date}",
        "check the weather {date}", "what was the weather like {negago}", "did it rain {negago}",
        "what's the weather like", "how's the weather {date}", "is it going to rain {date}",
        "what will the weather be {date}", "forecast for {day}", "do i need a coat {date}",
        "how warm is it outside", "what's the high {date}", "is it freezing outside", "will it be sunny {date}",
        "how many degrees is it", "is it cloudy {date}", "weather report {date}",
        "how was the weather {pday}", "was it sunny {pday}", "what was the temperature {negago}",
        "is it too cold to go outside", "what's the wind like {date}", "is it nice out", "will it be foggy {date}",
        "will there be {wcond} {date}", "any {wcond} {date}", "is there {wcond} in the forecast {date}",
        "are we expecting {wcond} {date}", "what's the chance of {wcond} {date}", "is {wcond} coming {date}",
        "should i expect {wcond} {date}",
        "what's the weather going to do {date}", "is it nice outside {date}", "is it going to be hot {date}",
        "what should i wear {date}", "how's it looking outside", "temperature {date}", "weather update",
        "what's the outlook for {day}", "do i need boots {date}",
    ],
    "datetime_query": [
        "what time is it", "what's the time", ("what's the date today", ["today"]), "what day is it", ("what's today's date", ["today"]),
        "what day of the week is it", "what day is it {day}", "tell me the time", "do you know what time it is",
        "what month is it", "what year is it", "what date is {dweek}", "what's the time right now",
        "give me the current time", "what's the date", "current time", ("what is today", ["today"]), "time please",
        "what's the date {day}", "which day of the month is it", "what's the exact time",
        ("tell me today's date", ["today"]), "what date will it be {day}", "how late is it",
        "is it a weekday", "what's the time where i am",
        "what's the current date", "tell me what day it is", ("what's the day today", ["today"]), "what hour is it",
        "can you tell me the time", "what time is it now", "what's the date right now", "which day is it",
        "what is the time", "time check", "clock check", "what time do you have", "date please",
        ("do you know today's date", ["today"]),
        ("is it the weekend yet", ["this_weekend"]), ("is today a holiday", ["today"]), "what week of the year is it", "how many days are left in the month",
        "what's the time on the clock", ("how long until midnight", ["midnight"]),
        ("is it friday yet", ["this_friday"]), ("is it monday today", ["this_monday", "today"]), ("is today a weekday", ["today"]), ("how long is it until noon", ["noon"]),
        "what's the date and time", "tell me the day and the date", "what time have you got", "which month are we in",
        ("what's today", ["today"]), ("which day is today", ["today"]), "what date is it", "do you have the time", "time now",
        "what time is it right now", "what's the day", "what weekday is it", "is it still {dweek}",
        "what's the hour", "give me the date",
    ],
    "app_open": [
        "open {app}", "launch {app}", "start {app}", "fire up {app}", "bring up {app}", "run {app}",
        "open up {app}", "go to {app}", "switch to {app}", "load {app}", "start up {app}",
        "i want to use {app}", "get {app} running", "pull up {app}", "show me {app}", "boot up {app}",
        "open the app {app}", "can i get {app}", "let's open {app}", "need {app} open", "open {app} for me",
        "launch the {app} application", "i'd like to open {app}", "take me to {app}",
        "open up the {app}", "start the program {app}", "display {app}", "open {app} please", "can you launch {app}",
        "please run {app}", "open the {app} application", "execute {app}", "spin up {app}", "go ahead and open {app}",
        "could you open {app} for me", "i need {app}", "start {app} up", "open my {app}",
        "get {app} going", "open {app} now", "bring {app} up", "i want {app} open", "have {app} open",
        "open the {app} app", "access {app}", "i wanna use {app}", "navigate to {app}", "launch up {app}",
        "start me up {app}", "open a window of {app}", "bring {app} to the front",
    ],
    "system_status": [
        "how much memory am i using", "what's my cpu usage", "battery level", "how much disk space is left",
        "which models are loaded", "system status", "is my computer running hot", "how's the system doing",
        "how much ram is free", "show me resource usage", "what's using all my cpu", "how full is my disk",
        "what's the battery at", "is the laptop charging", "how much storage do i have",
        "what model are you running", "check system health", "how busy is the processor", "memory usage",
        "how much battery is left", "what's the cpu temperature", "is the speech model loaded",
        "give me a system report", "how is my computer doing", "what's the load on the machine",
        "how many cores are busy",
        "how much memory is free", "what's my memory usage", "cpu load", "how's my battery", "disk usage",
        "is my computer overheating", "what is the system load", "show system info", "how much space is left on my drive",
        "which model is loaded right now", "what's eating my memory", "how hot is the cpu", "check my battery",
        "is the computer slow because of cpu", "what's my ram usage", "how many processes are running",
        "what model is running", "which language model are you using", "how many programs are open",
        "is the battery charging", "is the laptop plugged in", "how much power is left", "how long will my battery last",
        "are you using the gpu",
        "is my laptop running out of battery", "is the machine under heavy load", "which ai model is active",
        "are the models loaded yet", "how much memory does the assistant use", "is the power cable connected",
        "how many apps are running", "what's the uptime", "how healthy is my computer", "check the cpu",
        "how's my {res}", "what's the {res} usage", "{res} usage", "check the {res}", "how much {res} is used",
        "{res} status", "show {res} stats", "how is the {res} doing", "give me the {res} numbers",
        "what's my computer's status", "how much free space is there", "how loaded is the cpu",
        "tell me about system performance", "what's the temperature of the processor", "how much juice is left",
        "battery percentage", "is the fan running hard", "what's my free memory", "diagnostics please",
    ],
    "volume_set": [
        "turn the volume up", "volume down", "mute", "unmute", "set the volume to {n}", "louder",
        "make it quieter", "turn it up to {n} percent", "crank it up", "lower the volume a bit",
        "volume {n}", "turn the sound off", "raise the volume", "it's too loud", "i can't hear it turn it up",
        "put the volume at {n}", "decrease the volume", "increase volume by {n} percent", "silence",
        "mute the sound", "turn down the volume", "volume to {n} percent", "a bit louder please",
        "make it louder", "set sound level to {n}", "quieter please", "max volume",
        "turn it down", "turn it up", "volume up", "louder please", "reduce the volume", "lower it", "softer",
        "turn the volume to {n}", "set volume {n} percent", "make the sound louder", "quiet down", "boost the volume",
        "turn off the sound", "mute audio", "volume at half",
        "it's too quiet", "too loud", "that's too loud turn it down", "i can't hear anything", "can you unmute",
        "unmute the speakers", "sound on", "bring the volume down", "the music is too loud", "speak louder",
        "turn the music down", "turn the music up", "make it a bit softer", "volume all the way up",
        "set the {vobj} volume to {n}", "turn the {vobj} volume down", "make the {vobj} louder", "lower the {vobj}",
        "{vobj} volume up", "mute the {vobj}",
        "can you turn that down", "can you turn that up", "sound down", "sound up", "more volume", "less volume",
        "the volume is too low", "i need more volume", "it's way too quiet", "dial the volume down",
    ],
    "media_control": [
        "play {song}", "pause the music", "next song", "skip this track", "resume", "go back to the previous song",
        "put on {song}", "pause", "resume playback", "skip", "previous track", "play the next one",
        "stop the music", "i want to hear {song}", "play some {song}", "next track please", "rewind this song",
        "start playing {song}", "shuffle {song}", "hold the music", "go to the next song", "replay that song",
        "continue playing", "can you play {song}", "queue up {song}", "back one track", "unpause",
        "skip to the next song", "pause playback", "stop playing", "play music", "play {song} please",
        "back to the last song", "next", "previous song", "pause the song", "resume the music", "skip ahead",
        "play something by {song}", "can you pause", "resume the song",
        "stop the song", "stop playback", "halt the music", "pause spotify", "play it again", "skip back",
        "play that again", "repeat this song", "play the song again", "start the track over", "loop this song",
        "fast forward", "play the next episode",
        "play my music", "start the music", "put some music on", "stop that song", "skip it",
        "next one please", "i don't like this song skip it", "go back a track", "pause for a second", "keep playing",
    ],
    "note_create": [
        "take a note {note}", "note that {note}", "write down {note}", "add a note saying {note}",
        "make a note {note}", "jot down {note}", "new note {note}", "note {note}", "save a note {note}",
        "create a note {note}", "put this in my notes {note}", "add to my notes {note}",
        "write this down {note}", "take note {note}", "i want to make a note {note}", "memo {note}",
        "record a note {note}", "please note {note}", "note down {note}", "keep a note that {note}",
        "add this note {note}", "could you note {note}", "write a note {note}", "start a note {note}",
        "note to self {note}", "scribble down {note}",
        "note this {note}", "add a note {note}", "make a quick note {note}", "quick note {note}",
        "write in my notes {note}", "put a note down {note}", "i want a note saying {note}",
        "remember this for me {note}", "create a new note {note}", "save this {note}", "take down a note {note}",
        "can you take a note {note}", "dictate a note {note}",
        "remember that {note}", "log a note {note}", "store a note {note}", "i need to write down {note}",
        "please write down {note}", "add to notes {note}", "take a memo {note}", "capture a note {note}",
    ],
    "web_search": [
        "search the web for {query}", "google {query}", "look up {query}", "search for {query}",
        "find {query} online", "can you search {query}", "do a web search for {query}", "bing {query}",
        "look online for {query}", "search {query} on the web", "find me articles about {query}",
        "search the internet for {query}", "web search {query}", "search up {query}", "look up {query} online",
        "i want to search for {query}", "find information on {query}", "check online for {query}",
        "run a search for {query}", "query the web for {query}", "do an internet search on {query}",
        "search online {query}", "what does the internet say about {query}", "find results for {query}",
        "browse the web for {query}", "search google for {query}",
        "look for {query} on the web", "search about {query}", "can you look up {query}", "find out about {query} online",
        "google search {query}", "internet search {query}", "look {query} up", "please search {query}",
        "do a search on {query}", "search the net for {query}", "find {query} on google", "could you google {query}",
        "can you find {query} for me", "search {query}", "look into {query} online", "research {query}",
        "hunt down {query} online", "do some research on {query}", "pull up search results for {query}",
        "get me search results about {query}",
    ],
    "general_chat": [
        "what is {concept}", "explain {concept}", "tell me about {concept}", "how does {concept} work",
        "why is the sky blue", "tell me a joke", "good morning jarvis", ("how are you today", ["today"]),
        "what should i cook for dinner", "give me ideas for dinner", "what's a good breakfast",
        "write a poem about {concept}", "what's the capital of {country}", "remind me what {concept} means",
        "what is the history of time zones", "open source licenses explained", "how does weather forecasting work",
        "what's the best way to take notes", "how do search engines work", ("who won the world cup last year", ["last_year"]),
        "what happened two hundred years ago", "can you help me with my homework", "thank you jarvis",
        "what do you think about {concept}", "summarize {concept} in simple terms", "i'm bored",
        "is it healthy to skip breakfast", "what's your favourite movie", "how far away is the moon",
        "why do we need sleep", "who are you", "teach me something about {concept}",
        "what's the difference between weather and climate", "where should i book a table for lunch",
        ("what was the biggest news story last week", ["last_week"]), "tell me a story",
        "what time zone is {country} in", "how do alarm clocks work", "compare {concept} and {concept2}",
        "what are the rules of chess", "translate thank you into {language}",
        "is it bad to sit {negdur}", "how many calories does running {negdur} burn", "what happened {negago}",
        "i just walked {negdur} how far is that", "how much did the world change {negago}",
        "what's the meaning of life", "do you like music", "tell me something interesting", "how old is the universe",
        "who was albert einstein", "what's the tallest mountain", "can you recommend a book", "what's your name",
        "how many people live in {country}", "what language do they speak in {country}",
        "give me a fun fact about {country}", "what is the population of {country}", "describe {concept}",
        "what are the benefits of {concept}", "why does {concept} matter", "can you explain {concept} to me",
        "i have a question about {concept}", "what do you know about {concept}", "define {concept}",
        "help me understand {concept}", "how would you describe {concept}", "how do i learn {concept}",
        "is {concept} important", "what's interesting about {concept}", "what are the pros and cons of {concept}",
        "let's talk about {concept}", "i'm feeling tired", "i had a long day", "hello", "hi jarvis",
        "what can you do", "are you a robot", "how do i cook rice", "what's two plus two", "what is nine times seven",
        "how do plants grow", "why do cats purr", "what is the best programming language", "how does the heart work",
        "write a short story about a robot", "tell me a riddle", "what's the weather like on venus",
        "how do i open a bank account", "how do i set goals", "what is a good time to exercise",
        "what's a healthy dinner", "should i learn piano or guitar", "what makes a good note taker",
        "who invented the clock", "how does a timer circuit work", "why is the volume of the ocean so large",
        "what does cpu stand for", "how do i search for a job", "what is the battery of the future",
        "what was life like a hundred years ago", "did dinosaurs live millions of years ago", "what happened in history {negago}",
        "who is the president of {country}", "what's the national dish of {country}", "is it a good idea to learn {concept}",
        "i love you jarvis", "you're funny", "that's interesting", "what do you mean", "can you say that again",
        "how do magnets work", "why do leaves change color", "what's the fastest animal",
        "how old is the earth", "how big is the sun", "why is the ocean salty", "what's the biggest animal",
        "how long do cats live", "what causes earthquakes", "how many bones are in the human body",
        "what is the speed of sound", "who painted the mona lisa", "what's the smallest country",
        "how does a rainbow form", "what's the best way to learn to code", "tell me about yourself",
        "what's your opinion on {concept}", "is coffee bad for you", "how can i sleep better", "what should i read next",
        "recommend a movie", "what is love", "why do we dream", "what are black holes made of",
        "how do i stay motivated", "what's a good hobby", "give me advice on {concept}", "what rhymes with orange",
        "how many planets are there", "what is the square root of sixty four", "who discovered penicillin",
    ],
}
PAYLOAD_SLOT = {"reminder_set": "task", "note_create": "note", "web_search": "query", "app_open": "app",
                "calendar_set": "event", "media_control": "song"}
LANGUAGES = ["spanish", "french", "german", "japanese", "italian"]
WEATHER_CONDITIONS = ["rain", "snow", "thunderstorms", "hail", "fog", "sunshine", "strong wind", "a heatwave", "frost",
                      "showers", "drizzle", "clouds", "a storm", "sleet", "high humidity"]
RESOURCES = ["cpu", "memory", "ram", "battery", "disk", "storage", "gpu", "processor", "swap", "system",
             "hard drive", "power"]
SCHEDULE_OBJECTS = ["meetings", "appointments", "events", "reminders", "alarms", "timers", "plans", "calls"]
VOLUME_OBJECTS = ["speaker", "speakers", "sound", "music", "audio", "headphone", "system"]
VALID_FRACTION = 0.2
SPLIT_SEED = 20240607
DATE_SLOTS = {"date", "when", "day", "pday", "clock", "dur", "durx", "aw", "dweek", "dayp", "negdur", "negago"}


def template_ids() -> dict[str, str]:
    """``{template_id: split}`` for every template; about 20 % of each intent's templates are validation."""
    out: dict[str, str] = {}
    for intent, temps in TEMPLATES.items():
        ids = [f"{intent}/{i:02d}" for i in range(len(temps))]
        # rank by a hash of the template's own text: adding a template does not reshuffle the others
        rank = sorted(ids, key=lambda t: hashlib.sha1(
            f"{SPLIT_SEED}:{_template_text(TEMPLATES[intent][int(t.split('/')[1])])}".encode()).hexdigest())
        valid = set(rank[:max(2, round(VALID_FRACTION * len(ids)))])
        out.update({t: ("valid" if t in valid else "train") for t in ids})
    return out


def _template_text(template: str | tuple[str, list[str]]) -> str:
    return template[0] if isinstance(template, tuple) else template


# --------------------------------------------------------------------------------------------- date slots
def _date_for(intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    """The ``{date}``/``{when}`` draw for an intent; text "" means no date at all."""
    r = rng.random()
    if intent in ("reminder_set", "calendar_set"):
        table = [(0.20, "clock"), (0.47, "composite"), (0.62, "day"), (0.72, "in_minutes"), (0.77, "in_days"),
                 (0.82, "tod"), (0.87, "meal"), (0.94, "negative"), (1.0, "none")]
    elif intent == "weather_query":
        table = [(0.5, "day"), (0.6, "tod"), (0.67, "in_days"), (0.72, "composite"), (0.75, "negative"),
                 (1.0, "none")]
    else:
        table = [(0.5, "day"), (1.0, "none")]
    kind = next(k for p, k in table if r < p)
    if kind == "clock":
        return dg.clock_expr(rng, style)
    if kind == "composite":
        return dg.composite_expr(rng, style)
    if kind == "day":
        t, k, _ = dg.day_expr(rng, style)
        return t, k
    if kind == "in_minutes":
        return dg.in_minutes_expr(rng, style)
    if kind == "in_days":
        return dg.in_days_expr(rng, style)
    if kind == "tod":
        t, k = rng.choice(dg.TIME_OF_DAY)
        return t, [k]
    if kind == "meal":
        t, k = rng.choice(dg.MEALS)
        return t, [k]
    if kind == "negative":
        return rng.choice(dg.VAGUE), []
    return "", []


def _timer_duration(rng: random.Random, style: str, adjective: bool) -> tuple[str, list[str]]:
    if rng.random() < 0.08:  # under a minute: no key (spec rule 12)
        n = rng.choice([10, 15, 20, 30, 45, 50])
        return (f"{dg.num(rng, n, style)} second" if adjective else f"{dg.num(rng, n, style)} seconds"), []
    if adjective:
        n = rng.choice([1, 2, 3, 4, 5, 5, 7, 8, 10, 10, 12, 15, 20, 25, 30, 40, 45, 60, 90])
        if n == 60:
            return rng.choice(["one hour", "1 hour", "sixty minute"]), ["in_60_minutes"]
        if n == 30 and rng.random() < 0.4:
            return "half hour", ["in_30_minutes"]
        sep = "-" if style == "whisper" and rng.random() < 0.5 else " "
        return f"{dg.num(rng, n, style)}{sep}minute", [f"in_{n}_minutes"]
    text, n = dg.offset_minutes_expr(rng, style)
    return text, [f"in_{n}_minutes"]


def _alarm_when(rng: random.Random, style: str) -> tuple[str, list[str]]:
    r = rng.random()
    if r < 0.45:
        return dg.clock_expr(rng, style, hours=list(range(4, 12)), modes=("explicit", "bare", "natural"))
    if r < 0.55:
        h24 = rng.choice([5, 6])
        m = rng.choice([0, 0, 15, 30, 45])
        return "at " + dg.clock_phrase(rng, h24, m, style, "bare"), [dg.clock_key(h24, m)]
    if r < 0.9:
        return dg.composite_expr(rng, style, alarm=True)
    return dg.in_minutes_expr(rng, style)


def _alarm_clock(rng: random.Random, style: str, intent: str) -> tuple[str, list[str]]:
    h24 = rng.choice(list(range(4, 12)) + [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23])
    m = dg.random_minute(rng)
    if 7 <= h24 <= 11 and intent == "alarm_set" and rng.random() < 0.3:
        return dg.clock_phrase(rng, h24, m, style, "bare"), [dg.clock_key(h24, m)]
    return dg.clock_phrase(rng, h24, m, style, "explicit"), [dg.clock_key(h24, m)]


def _slot_date(slot: str, intent: str, rng: random.Random, style: str) -> tuple[str, list[str]]:
    if slot == "date":
        return _date_for(intent, rng, style)
    if slot == "when":
        for _ in range(20):
            t, k = _date_for(intent, rng, style)
            if t and (k or intent != "reminder_set" or rng.random() < 0.3):
                return t, k
        return "tomorrow", ["tomorrow"]
    if slot == "day":
        for _ in range(20):  # an alarm's "{clock} {day}": no day-part that would flip am/pm
            t, k, fam = dg.day_expr(rng, style)
            if intent != "alarm_set" or fam in ("relative_days", "weekdays"):
                return t, k
        return "tomorrow", ["tomorrow"]
    if slot == "pday":
        if rng.random() < 0.3:
            t, k = rng.choice([("yesterday", ["yesterday"]), ("last night", ["last_night"]),
                               ("yesterday morning", ["yesterday_morning"]), ("last week", ["last_week"])])
            return t, k
        t, k, _ = dg.day_expr(rng, style, future=False)
        return t, k
    if slot == "dweek":
        return dg.weekday_expr(rng, style)
    if slot == "dayp":  # possessive day: "tomorrow's", "friday's"
        if rng.random() < 0.5:
            t, k = rng.choice([("today", "today"), ("tomorrow", "tomorrow")])
            return f"{t}'s", [k]
        day = rng.choice(dg.WEEKDAYS)
        return f"{dg._cap_day(day, style)}'s", [f"this_{day}"]
    if slot == "clock":
        return _alarm_clock(rng, style, intent)
    if slot == "aw":
        return _alarm_when(rng, style)
    if slot == "negdur":
        n = rng.choice([10, 15, 20, 30, 45, 2, 3])
        return f"for {dg.num(rng, n, style)} {'hours' if n < 5 else 'minutes'}", []
    if slot == "negago":
        n = rng.choice([2, 3, 5, 10, 20])
        return f"{dg.num(rng, n, style)} {rng.choice(['hours', 'days', 'minutes', 'weeks', 'years'])} ago", []
    if slot in ("dur", "durx"):
        return _timer_duration(rng, style, adjective=slot == "durx")
    raise KeyError(slot)


def _filler(slot: str, rng: random.Random) -> str:
    if slot == "task":
        return rng.choice(TASKS)
    if slot == "note":
        return rng.choice(NOTES)
    if slot == "query":
        return rng.choice(QUERIES)
    if slot == "app":
        return rng.choice(APPS)
    if slot == "event":
        if rng.random() < 0.5:
            return rng.choice(EVENT_PATTERNS).format(c=rng.choice(CONTACTS))
        return rng.choice(EVENTS)
    if slot == "song":
        return rng.choice(SONGS)
    if slot in ("concept", "concept2"):
        return rng.choice(CONCEPTS)
    if slot == "country":
        return rng.choice(COUNTRIES)
    if slot == "contact":
        return rng.choice(CONTACTS)
    if slot == "wcond":
        return rng.choice(WEATHER_CONDITIONS)
    if slot == "res":
        return rng.choice(RESOURCES)
    if slot == "sobj":
        return rng.choice(SCHEDULE_OBJECTS)
    if slot == "vobj":
        return rng.choice(VOLUME_OBJECTS)
    if slot == "language":
        return rng.choice(LANGUAGES)
    if slot == "n":
        return str(rng.choice([10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100, 3, 5, 7]))
    raise KeyError(slot)


# --------------------------------------------------------------------------------------------- surface
_HOMOPHONES = {"to": ["two", "too"], "for": ["four"], "right": ["write"], "new": ["knew"], "know": ["no"],
               "there": ["their"], "hear": ["here"], "one": ["won"], "weather": ["whether"], "i": ["eye"]}
_DROPPABLE = {"the", "a", "me", "my", "to", "an", "for", "up", "is"}


def _slip(words: list[str], rng: random.Random) -> list[str]:
    """One small recognition slip on template words: drop or duplicate a short word, or a homophone."""
    if not words:
        return words
    kind = rng.choice(["drop", "dup", "homophone", "homophone"])
    idx = list(range(len(words)))
    rng.shuffle(idx)
    for i in idx:
        w = words[i]
        if kind == "drop" and w in _DROPPABLE and len(words) > 2:
            return words[:i] + words[i + 1:]
        if kind == "dup" and len(w) <= 4:
            return words[:i + 1] + [w] + words[i + 1:]
        if kind == "homophone" and w in _HOMOPHONES:
            return words[:i] + [rng.choice(_HOMOPHONES[w])] + words[i + 1:]
    return words


_QUESTION_START = ("what", "what's", "when", "where", "who", "why", "how", "how's", "is", "are", "do", "does",
                   "will", "can", "could", "which", "any", "am", "should", "have", "would")


def _whisper_case(text: str, question: bool, pre: str) -> str:
    text = re.sub(r"\bi\b", "I", text)
    text = re.sub(r"\bi'(m|d|ll|ve)\b", lambda m: "I'" + m.group(1), text)
    for name in CONTACTS + ["Jarvis", "Rome", "Lisbon", "Boston", "Dune", "Phoenix", "Spotify", "Firefox",
                            "Chrome", "Slack", "Zoom", "Discord", "Steam", "Gmail", "Python", "Europe",
                            "Canada", "Barcelona", "Spanish", "French", "German", "Japanese", "Italian"]:
        text = re.sub(rf"\b{re.escape(name.lower())}\b", name, text)
    text = text[0].upper() + text[1:]
    if pre and text.lower().startswith(pre) and "jarvis" in pre and len(text) > len(pre) + 1:
        text = text[:len(pre)] + "," + text[len(pre):]
    if text.endswith("."):
        text = text[:-1]
    return text + ("?" if question else rng_punct(text))


def rng_punct(text: str) -> str:
    return "!" if text.lower().startswith(("wake", "stop", "mute")) and len(text) < 14 else "."


def _asr_case(text: str) -> str:
    text = text.lower()
    text = re.sub(r"[,?!;:](?=\s|$)", "", text)
    text = re.sub(r"\.(?=\s|$)", "", text)
    return re.sub(r"\s+", " ", text).strip()


def render(intent: str, template: str | tuple[str, list[str]], rng: random.Random,
           style: str) -> tuple[str, list[str], str]:
    """Fill one template: returns ``(text, date_keys, payload)`` with labels from the slots.

    A template is a string, or ``(string, keys)`` when its own words hold a date ("what's the date today").
    """
    if isinstance(template, tuple):
        template, literal = template
    else:
        literal = []
    parts = re.split(r"\{(\w+)\}", template)
    keys: list[str] = list(literal)
    payload = ""
    pieces: list[str] = []
    slip_at = rng.randrange(len(parts)) if rng.random() < 0.15 else -1
    for i, part in enumerate(parts):
        if i % 2 == 0:  # template words
            words = part.split()
            if i == slip_at:
                # keep the words next to a date slot intact, so a slip never changes the date keys
                head = words[:1] if i > 0 and parts[i - 1] in DATE_SLOTS else []
                tail = words[-1:] if i + 1 < len(parts) and parts[i + 1] in DATE_SLOTS and words else []
                core = words[len(head):len(words) - len(tail)]
                words = head + _slip(core, rng) + tail
            pieces.append(" ".join(words))
            continue
        if part in DATE_SLOTS:
            text, k = _slot_date(part, intent, rng, style)
            keys.extend(k)
            pieces.append(text)
        else:
            text = _filler(part, rng)
            if part == PAYLOAD_SLOT.get(intent):
                payload = text
            pieces.append(text)
    text = " ".join(p for p in pieces if p)
    text = re.sub(r"\s+", " ", text).strip()
    first = text.split()[0] if text else ""
    question = first in _QUESTION_START
    pre = ""
    r = rng.random()
    if r < 0.25:
        pre = rng.choice(FILLER_PRE)
    elif r < 0.4 and first in IMPERATIVE:
        pre = rng.choice(POLITE_PRE)
        question = question or pre.startswith(("could", "can", "would"))
    if pre:
        text = f"{pre} {text}"
    if rng.random() < 0.07 and not question:
        text = f"{text} {rng.choice(FILLER_POST)}"
    if style == "whisper":
        text = _whisper_case(text, question, pre)
        payload = _whisper_case(payload, False, "")[:-1] if payload else ""
    else:
        text = _asr_case(text)
        payload = _asr_case(payload)
    return text, keys, payload


def generate(n: int = 8000, seed: int = 13) -> list[dict]:
    """``n`` distinct labelled utterances, reproducible for a given ``seed``.

    Returns rows ``{"text": str, "intent": str, "date_keys": list[str], "payload": str,
    "template": "intent/NN", "split": "train" | "valid"}``. Raises ValueError if ``n < 1``.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    rng = random.Random(seed)
    splits = template_ids()
    intents = list(TEMPLATES)
    weights = {"reminder_set": 2.2, "calendar_set": 1.6, "alarm_set": 1.4, "timer_set": 1.0,
               "schedule_query": 1.1, "schedule_remove": 1.1, "weather_query": 1.1, "general_chat": 2.4}
    w = [weights.get(i, 0.8) for i in intents]
    rows: list[dict] = []
    seen: set[str] = set()
    attempts = 0
    while len(rows) < n and attempts < n * 20:
        attempts += 1
        intent = rng.choices(intents, w)[0]
        ti = rng.randrange(len(TEMPLATES[intent]))
        style = "asr" if rng.random() < 0.55 else "whisper"
        text, keys, payload = render(intent, TEMPLATES[intent][ti], rng, style)
        if text.lower() in seen:
            continue
        seen.add(text.lower())
        tid = f"{intent}/{ti:02d}"
        rows.append({"text": text, "intent": intent, "date_keys": keys, "payload": payload,
                     "template": tid, "split": splits[tid]})
    return rows


def write_corpus(path: str | Path, n: int = 8000, seed: int = 13) -> list[dict]:
    """Generate and write the corpus as JSONL (one row per line, UTF-8); returns the rows."""
    rows = generate(n, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return rows


def read_corpus(path: str | Path) -> list[dict]:
    """Read a JSONL corpus written by :func:`write_corpus`."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
