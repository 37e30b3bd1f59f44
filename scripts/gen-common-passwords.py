#!/usr/bin/env python3
"""Writes src/auth/common-passwords.txt: well-known weak passwords of 8 or more characters.

Shorter ones are refused by the length rule anyway. The password policy treats every non-blank
line as a password (compared case-insensitively), so the output has no comments. The output is
deterministic; rerun after editing the lists below: python3 scripts/gen-common-passwords.py
The file is compiled in as one string literal: keep it under 64 KiB, the length ISO C++ promises.
"""
import pathlib

# Seen again and again at the top of published breach corpora (8+ characters).
WELL_KNOWN = """
password password1 password12 password123 password1234 password12345 password! password1!
passw0rd passw0rd1 p@ssw0rd p@ssword p@ssword1 p@55w0rd pa$$word pa55word pa55w0rd passwort
motdepasse contrasena wachtwoord salasana passord haslo123 parola123
12345678 123456789 1234567890 12345678910 0987654321 987654321 87654321 98765432
11111111 111111111 1111111111 00000000 000000000 0000000000 88888888 99999999 66666666
12341234 11223344 12121212 123123123 123321123 12344321 11112222 12312312 123456123
147258369 741852963 963852741 159753456 123654789 789456123 147852369 456789123 159357456
159753159 852456789 321654987 13579246 24681357 102030405 10203040 1234512345 1122334455
qwertyui qwertyuiop qwerty12 qwerty123 qwerty1234 qwerty12345 qwerty123456 qwertyu1
qwerty11 qwerty01 qwerty69 qwerty007 qwerty!! qwertyqwerty qwertz123 azertyuiop azerty123
asdfghjk asdfghjkl asdf1234 asdfasdf asdfqwer zxcvbnm1 zxcvbnm123 zxcvbnma zxcvasdf
1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y q1w2e3r4 q1w2e3r4t5 q1w2e3r4t5y6 1qaz2wsx 1qaz2wsx3edc
zaq12wsx zaq1zaq1 zaq1xsw2 zaq1xsw2cde3 qazwsxedc qazwsxedcrfv 1qazxsw2 2wsx3edc 12qwaszx
123qweasd 123qweasdzxc qweasdzxc qweasd123 qwe12345 qwe123qwe 1234qwer qwer1234 qwerasdf
abcd1234 abc12345 abc123456 abcdefgh abcdefg1 abcdef12 abcdef123 a1234567 a12345678
a123456789 aa123456 aaa12345 aa12345678 a1b2c3d4 a1b2c3d4e5 1a2b3c4d abc123abc
iloveyou iloveyou1 iloveyou2 iloveyou! iloveu123 iloveyou123 loveyou1 loveyou123 ilovegod
sunshine sunshine1 football football1 footballer baseball baseball1 basketball basketball1
princess princess1 superman superman1 batman123 batman12 spiderman spiderman1 ironman1
trustno1 trustnoone letmein1 letmein12 letmein123 letmein! welcome1 welcome12 welcome123
welcome! welcome2 welcome01 changeme changeme1 changeme123 default1 default123 secret123
administrator admin123 admin1234 admin12345 adminadmin administrator1 root1234 rootroot
toor1234 test1234 test12345 testtest testing1 testing123 guest123 user1234 username
master12 master123 mastermind shadow12 shadow123 monkey12 monkey123 dragon12 dragon123
michael1 jennifer jordan23 jordan123 charlie1 charlie123 computer computer1 internet
starwars starwars1 whatever whatever1 maverick mercedes corvette mustang1 chocolate
chocolate1 cookie123 liverpool liverpool1 chelsea1 arsenal1 manchester manutd123
butterfly butterfly1 babygirl1 babygirl babyboy1 angel123 angelina jesus123 jesuschrist
blessed1 freedom1 nicole12 anthony1 ashley12 jessica1 michelle samantha victoria danielle
alexander christopher christian benjamin elizabeth jonathan jennifer1 patricia margaret
football123 soccer123 soccer12 hockey12 hockey123 killer123 pokemon1 pokemon123 naruto123
minecraft minecraft1 fortnite fortnite1 playstation xbox360 nintendo gameover gamer123
iloveme1 lovely123 loveme123 lovelove sweetheart sweetie1 sexylady sexy1234 hottie123
fuckyou1 fuckyou123 fuckoff1 asshole1 bullshit bitch123 pussy123
987654321a 1234567a 12345678a 123456789a 1234567q 12345qwert 12345abc 123456abc
qwerty1! password2 password3 password7 password8 password9 password0 password11
1password 123password mypassword mypassword1 newpassword newpass1 oldpassword
secretpassword supersecret topsecret letmeinnow opensesame accessgranted access14
iamthebest imthebest goodluck1 happyday happiness happy123 smile123 summer12 summer123
winter12 winter123 spring12 autumn12 november december january1 february
september october1 saturday sunday12 monday12 thunder1 lightning rainbow1 rainbow123
whiskey1 jackdaniels beer1234 cocacola pepsi123 pizza123 chicken1 chicken123 banana12
cheese12 cheese123 icecream strawberry blueberry pineapple cupcake1 cherry12 peaches1
lakers24 yankees1 cowboys1 steelers packers1 redsox12 eagles12 patriots dolphins
tigers12 bulldogs panthers raiders1 broncos1 giants12 chargers bearsfan
mickeymouse minnie123 tinkerbell snoopy12 scooby12 scoobydoo garfield1 pikachu1
harrypotter hermione gandalf1 frodo123 starwars12 darthvader skywalker jedimaster
matrix12 neo12345 terminator predator highlander stargate1 startrek trekkie1
microsoft windows7 windows10 linux123 ubuntu123 apple123 iphone12 samsung1 google123
facebook1 youtube1 twitter1 instagram linkedin1 netflix1 amazon123 paypal123 yahoo123
hotmail1 gmail123 outlook1 computer12 laptop123 desktop1 keyboard1 monitor1 internet1
qwerty2020 qwerty2021 qwerty2022 qwerty2023 qwerty2024 qwerty2025 summer2020 summer2021
summer2022 summer2023 summer2024 summer2025 winter2020 winter2021 winter2022 winter2023
winter2024 winter2025 spring2024 spring2025 autumn2024 autumn2025 welcome2020 welcome2021
welcome2022 welcome2023 welcome2024 welcome2025 covid2020 covid19! coronavirus
1qaz!qaz 1qaz@wsx !qaz2wsx !qaz@wsx 1q2w3e! !q2w3e4r qwerty!@ !@#$%^&* !@#$%^&*() 1!2@3#4$
q!w@e#r$ 1234!@#$ asdf!@#$ zaq!xsw@ p@ssw0rd! p@ssw0rd1 passw0rd! pa$$w0rd p455w0rd
"""

# Everyday words, names and things that people build passwords from.
WORDS = """
password welcome monkey dragon master shadow letmein sunshine princess football baseball
soccer hockey killer charlie michael jordan hunter ranger buster thomas tigger robert
jessica daniel andrew joshua matthew george jennifer ashley amanda nicole michelle summer
winter spring autumn flower orange banana cherry cookie pepper ginger maggie bailey buddy
lucky happy angel jesus love lover family friend friends freedom forever heaven purple
yellow silver golden diamond crystal dolphin tiger lion eagle falcon phoenix thunder
storm rocket snoopy pokemon naruto batman superman spider ninja pirate warrior wizard
knight legend hello secret access login admin qwerty asdf zxcvbnm iloveyou loveme
babygirl booboo cutie sweety honey sugar candy cookies donald mickey minnie disney
london paris berlin madrid moscow tokyo america canada mexico brazil france germany
england russia china india chicago boston dallas texas florida california newyork
samsung apple google nokia toyota honda nissan ferrari porsche yamaha harley
chelsea arsenal liverpool barcelona juventus madrid united celtic rangers lakers
yankees cowboys steelers packers patriots raiders giants eagles tigers
music guitar piano rockstar dancer singer jazz metal punk hiphop
coffee pizza chicken cheese beer whiskey vodka tequila chocolate
matrix hacker gamer player killer sniper soldier police doctor nurse teacher
mother father sister brother mommy daddy grandma baby junior senior
monday friday sunday january april june july august october december
"""

SUFFIXES = ["", "1", "12", "123", "1234", "!", "1!", "01", "11", "13", "23", "69", "99", "007",
            "2020", "2023", "2024", "2025"]

KEYBOARD_WALKS = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "poiuytrewq", "lkjhgfdsa", "mnbvcxz",
                  "qazwsxedc", "1qaz2wsx3edc", "1q2w3e4r5t6y", "qwertzuiop", "azertyuiop",
                  "zaq12wsx", "q1w2e3r4t5", "1234qwer", "qwer1234", "asdf1234", "zxcv1234"]


def digit_runs():
    out = []
    for digit in "0123456789":
        for length in range(8, 13):
            out.append(digit * length)
    ascending = "01234567890123456789"
    descending = "98765432109876543210"
    for start in range(10):
        for length in range(8, 11):
            out.append(ascending[start:start + length])
            out.append(descending[start:start + length])
    for pair in ["12", "21", "69", "13", "11", "00", "01", "10", "99", "77", "23"]:
        out.append(pair * 4)
        out.append(pair * 5)
    for triple in ["123", "321", "abc", "789", "456", "159", "147", "369", "007"]:
        out.append(triple * 3)
    for quad in ["1234", "4321", "1212", "2580", "0000", "1357", "2468", "6969", "1122"]:
        out.append(quad * 2)
        out.append(quad * 3)
    return out


def letter_runs():
    out = []
    for letter in "abcdefghijklmnopqrstuvwxyz":
        out.append(letter * 8)
        out.append(letter * 10)
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    for start in range(0, 19):
        out.append(alphabet[start:start + 8])
    out.append(alphabet)
    return out


def keyboard_walks():
    out = []
    for walk in KEYBOARD_WALKS:
        for length in range(8, len(walk) + 1):
            out.append(walk[:length])
        for suffix in ["1", "12", "123", "!", "1!"]:
            out.append(walk[:8] + suffix)
            out.append(walk + suffix)
    return out


def word_patterns():
    out = []
    for word in WORDS.split():
        for suffix in SUFFIXES:
            out.append(word + suffix)
        out.append("1" + word)
        out.append("123" + word)
        out.append(word + word)
        out.append(word.capitalize() + "1")
    return out


def password_years():
    out = []
    for base in ["password", "Password", "passw0rd", "p@ssw0rd", "welcome", "letmein", "qwerty",
                 "monkey", "dragon", "summer", "winter", "football", "iloveyou"]:
        for year in range(1950, 2031):
            out.append(f"{base}{year}")
    for number in range(100):
        out.append(f"password{number}")
        out.append(f"password{number:02d}")
    return out


def leetspeak():
    out = []
    table = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"})
    for word in ["password", "welcome", "letmein", "football", "baseball", "sunshine",
                 "princess", "superman", "iloveyou", "trustno1", "computer", "internet"]:
        out.append(word.translate(table))
        out.append(word.replace("o", "0"))
        out.append(word.replace("a", "@"))
        out.append(word.replace("s", "$"))
    return out


def main():
    candidates = (WELL_KNOWN.split() + digit_runs() + letter_runs() + keyboard_walks() +
                  word_patterns() + password_years() + leetspeak())
    seen = set()
    lines = []
    for candidate in candidates:
        key = candidate.lower()
        # 8+ characters only; `${` and `@name@` would be expanded by CMake's file(CONFIGURE).
        if len(key) < 8 or key in seen or "${" in key or key.count("@") > 1:
            continue
        seen.add(key)
        lines.append(key)
    path = pathlib.Path(__file__).resolve().parent.parent / "src" / "auth" / "common-passwords.txt"
    path.parent.mkdir(exist_ok=True)
    text = "\n".join(lines) + "\n"
    assert len(text) < 65536, "too long for one string literal"
    path.write_text(text, encoding="ascii")
    print(f"{path}: {len(lines)} passwords")


if __name__ == "__main__":
    main()
