<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE TS>
<TS version="2.1" language="ru">
<context>
    <name>AccountChecks</name>
    <message>
        <source>Enter the SMTP server name, for example smtp.example.com.</source>
        <translation>Введите имя SMTP-сервера, например smtp.example.com.</translation>
    </message>
    <message>
        <source>“{host}” is not a valid server name or IP address.</source>
        <translation>Некорректное имя сервера или IP-адрес: «{host}».</translation>
    </message>
    <message>
        <source>The port is a whole number from 1 to 65535 (usually 465 or 587).</source>
        <translation>Порт — целое число от 1 до 65535 (обычно 465 или 587).</translation>
    </message>
    <message>
        <source>The login must not contain line breaks.</source>
        <translation>Логин не должен содержать переносов строк.</translation>
    </message>
    <message>
        <source>A timeout must be between 0 and 600 seconds.</source>
        <translation>Тайм-аут должен быть от 0 до 600 секунд.</translation>
    </message>
    <message>
        <source>Enter the address the messages come from.</source>
        <translation>Введите адрес, с которого будут отправляться письма.</translation>
    </message>
    <message>
        <source>“{addr}” is not an e-mail address (it needs a name, @ and a domain).</source>
        <translation>«{addr}» — не адрес электронной почты (нужны имя, @ и домен).</translation>
    </message>
    <message>
        <source>Enter the password for this login (or clear the login to test without one).</source>
        <translation>Введите пароль для этого логина (или очистите логин, чтобы проверить без пароля).</translation>
    </message>
    <message>
        <source>Enter the login that goes with this password.</source>
        <translation>Введите логин, к которому относится этот пароль.</translation>
    </message>
    <message>
        <source>Without encryption the password would travel readable. Choose SSL or STARTTLS, or allow it explicitly under Advanced.</source>
        <translation>Без шифрования пароль будет передан в открытом виде. Выберите SSL или STARTTLS либо явно разрешите это в разделе «Дополнительно».</translation>
    </message>
    <message>
        <source>The CA file “{path}” does not exist.</source>
        <translation>Файл CA «{path}» не найден.</translation>
    </message>
    <message>
        <source>A proxy URL looks like socks5://host:1080 or http://host:3128.</source>
        <translation>Адрес прокси указывается в виде socks5://host:1080 или http://host:3128.</translation>
    </message>
    <message>
        <source>Spaces in the app password are removed: {provider} ignores them.</source>
        <translation>Пробелы в пароле приложения будут удалены: {provider} их не учитывает.</translation>
    </message>
    <message>
        <source>Note: the password starts or ends with a space.</source>
        <translation>Внимание: пароль начинается или заканчивается пробелом.</translation>
    </message>
</context>
<context>
    <name>AccountPage</name>
    <message>
        <source>Choose a CA certificate</source>
        <translation>Выбор сертификата CA</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt *.cer);;All files (*)</source>
        <translation>Сертификаты (*.pem *.crt *.cer);;Все файлы (*)</translation>
    </message>
    <message>
        <source>Port 465 usually expects SSL/TLS from the start; with STARTTLS the check will likely hang.</source>
        <translation>Порт 465 обычно ждёт SSL/TLS с самого начала; со STARTTLS проверка, скорее всего, зависнет.</translation>
    </message>
    <message>
        <source>Port {port} usually expects STARTTLS; with SSL/TLS the handshake will likely fail.</source>
        <translation>Порт {port} обычно ждёт STARTTLS; с SSL/TLS рукопожатие, скорее всего, не пройдёт.</translation>
    </message>
    <message>
        <source>Trusted for {host}:{port}: SHA-256 {fp}</source>
        <translation>Доверенный для {host}:{port}: SHA-256 {fp}</translation>
    </message>
    <message>
        <source>Forget</source>
        <translation>Забыть</translation>
    </message>
    <message>
        <source>Forget the trusted certificate of {host}:{port}</source>
        <translation>Забыть доверенный сертификат {host}:{port}</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API-&amp;ключ:</translation>
    </message>
    <message>
        <source>App &amp;password:</source>
        <translation>&amp;Пароль приложения:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Пароль:</translation>
    </message>
    <message>
        <source>Everything is filled in for the local sandbox; just press Next.</source>
        <translation>Для локальной песочницы всё уже заполнено — просто нажмите «Далее».</translation>
    </message>
    <message>
        <source>Type your server's settings; your provider or administrator has them.</source>
        <translation>Введите параметры своего сервера — их можно узнать у провайдера или администратора.</translation>
    </message>
    <message>
        <source>Account at {name}. Server settings are filled in; change them under Advanced if needed.</source>
        <translation>Учётная запись: {name}. Параметры сервера уже заполнены; при необходимости измените их в разделе «Дополнительно».</translation>
    </message>
    <message>
        <source>Trusted certificate (SHA-256): {fp}</source>
        <translation>Доверенный сертификат (SHA-256): {fp}</translation>
    </message>
    <message>
        <source>Your account</source>
        <translation>Ваша учётная запись</translation>
    </message>
    <message>
        <source>Sender add&amp;ress:</source>
        <translation>&amp;Адрес отправителя:</translation>
    </message>
    <message>
        <source>&amp;Display name:</source>
        <translation>&amp;Имя отправителя:</translation>
    </message>
    <message>
        <source>Lo&amp;gin:</source>
        <translation>Ло&amp;гин:</translation>
    </message>
    <message>
        <source>SMTP &amp;server:</source>
        <translation>SMTP-&amp;сервер:</translation>
    </message>
    <message>
        <source>P&amp;ort:</source>
        <translation>П&amp;орт:</translation>
    </message>
    <message>
        <source>Securit&amp;y:</source>
        <translation>&amp;Шифрование:</translation>
    </message>
    <message>
        <source>A&amp;uthentication:</source>
        <translation>А&amp;утентификация:</translation>
    </message>
    <message>
        <source>&amp;Connect timeout, s:</source>
        <translation>&amp;Тайм-аут подключения, с:</translation>
    </message>
    <message>
        <source>&amp;Total timeout, s:</source>
        <translation>Об&amp;щий тайм-аут, с:</translation>
    </message>
    <message>
        <source>&amp;Minimum TLS version:</source>
        <translation>&amp;Минимальная версия TLS:</translation>
    </message>
    <message>
        <source>CA &amp;file:</source>
        <translation>&amp;Файл CA:</translation>
    </message>
    <message>
        <source>Pro&amp;xy URL:</source>
        <translation>П&amp;рокси (URL):</translation>
    </message>
    <message>
        <source>name@example.com</source>
        <translation>name@example.com</translation>
    </message>
    <message>
        <source>Optional, e.g. Support team</source>
        <translation>Необязательно, например: Служба поддержки</translation>
    </message>
    <message>
        <source>smtp.example.com</source>
        <translation>smtp.example.com</translation>
    </message>
    <message>
        <source>Optional, e.g. socks5://127.0.0.1:1080</source>
        <translation>Необязательно, например: socks5://127.0.0.1:1080</translation>
    </message>
    <message>
        <source>Optional: a PEM file with your own CA</source>
        <translation>Необязательно: PEM-файл вашего центра сертификации</translation>
    </message>
    <message>
        <source>Show password</source>
        <translation>Показать пароль</translation>
    </message>
    <message>
        <source>Show or hide the password</source>
        <translation>Показать или скрыть пароль</translation>
    </message>
    <message>
        <source>Sho&amp;w</source>
        <translation>Пока&amp;зать</translation>
    </message>
    <message>
        <source>SSL/TLS from the start (usually port 465)</source>
        <translation>SSL/TLS с начала соединения (обычно порт 465)</translation>
    </message>
    <message>
        <source>STARTTLS (usually port 587)</source>
        <translation>STARTTLS (обычно порт 587)</translation>
    </message>
    <message>
        <source>None — unencrypted (not recommended)</source>
        <translation>Нет — без шифрования (не рекомендуется)</translation>
    </message>
    <message>
        <source>Automatic (strongest offered)</source>
        <translation>Автоматически (самый надёжный)</translation>
    </message>
    <message>
        <source>XOAUTH2 (OAuth2 token as password)</source>
        <translation>XOAUTH2 (токен OAuth2 вместо пароля)</translation>
    </message>
    <message>
        <source>Brows&amp;e…</source>
        <translation>О&amp;бзор…</translation>
    </message>
    <message>
        <source>Choose a CA file</source>
        <translation>Выбрать файл CA</translation>
    </message>
    <message>
        <source>Allow the password w&amp;ithout encryption</source>
        <translation>Разр&amp;ешить передачу пароля без шифрования</translation>
    </message>
    <message>
        <source>Warning: anyone on the network path can read the password. Use only on a trusted local network.</source>
        <translation>Внимание: пароль сможет прочитать любой на пути передачи данных. Используйте только в доверенной локальной сети.</translation>
    </message>
    <message>
        <source>&amp;Advanced: server, port, security, TLS, proxy</source>
        <translation>Допо&amp;лнительно: сервер, порт, шифрование, TLS, прокси</translation>
    </message>
    <message>
        <source>&amp;View sandbox inbox</source>
        <translation>&amp;Входящие песочницы</translation>
    </message>
</context>
<context>
    <name>AccountSandbox</name>
    <message>
        <source>Starting the local sandbox server…</source>
        <translation>Запуск сервера локальной песочницы…</translation>
    </message>
    <message>
        <source>The sandbox runs on this computer: ports {ssl} (SSL) and {starttls} (STARTTLS). Messages stay here.</source>
        <translation>Песочница работает на этом компьютере: порты {ssl} (SSL) и {starttls} (STARTTLS). Письма никуда не уходят.</translation>
    </message>
    <message>
        <source>The sandbox could not start: {error}</source>
        <translation>Не удалось запустить песочницу: {error}</translation>
    </message>
</context>
<context>
    <name>Audit</name>
    <message>
        <source>No DMARC record for {domain}</source>
        <translation>Нет записи DMARC для {domain}</translation>
    </message>
    <message>
        <source>Gmail, Yahoo and Microsoft expect a DMARC record from domains that send mail; without it mail is more likely to be rejected or marked as spam. Start with "p=none" and reports, then tighten the policy once reports show all your mail passes.</source>
        <translation>Gmail, Yahoo и Microsoft ждут запись DMARC от доменов, с которых отправляют почту; без неё письма чаще отклоняются или попадают в спам. Начните с «p=none» и отчётов, а когда отчёты покажут, что вся ваша почта проходит проверку, ужесточите политику.</translation>
    </message>
    <message>
        <source>The DMARC record of {domain} is invalid</source>
        <translation>Запись DMARC домена {domain} некорректна</translation>
    </message>
    <message>
        <source>Receivers ignore a record they cannot read. The problem: {error}</source>
        <translation>Получатели игнорируют запись, которую не могут прочитать. Проблема: {error}</translation>
    </message>
    <message>
        <source>DMARC policy: {policy}</source>
        <translation>Политика DMARC: {policy}</translation>
    </message>
    <message>
        <source>The record only monitors (p=none): mail that fails DMARC is still delivered, so others can still send as this domain. When the reports show your own mail passes, move to p=quarantine and then p=reject.</source>
        <translation>Запись только наблюдает (p=none): письма, не прошедшие DMARC, всё равно доставляются, и чужие по-прежнему могут слать почту от имени домена. Когда отчёты покажут, что ваша почта проходит проверку, перейдите на p=quarantine, а затем на p=reject.</translation>
    </message>
    <message>
        <source>Receivers are asked to apply "{policy}" to mail that fails DMARC for this domain: a good policy.</source>
        <translation>Получателей просят применять «{policy}» к письмам этого домена, не прошедшим DMARC: хорошая политика.</translation>
    </message>
    <message>
        <source>relaxed</source>
        <translation>мягкое (relaxed)</translation>
    </message>
    <message>
        <source>strict</source>
        <translation>строгое (strict)</translation>
    </message>
    <message>
        <source>DMARC can pass through {via}</source>
        <translation>DMARC может пройти через {via}</translation>
    </message>
    <message>
        <source>At least one check that DMARC counts passes for a domain aligned with the From address ({domain}); SPF alignment is {aspf}, DKIM alignment is {adkim}.</source>
        <translation>Хотя бы одна проверка, которую учитывает DMARC, проходит для домена, совпадающего с адресом From ({domain}); совпадение для SPF — {aspf}, для DKIM — {adkim}.</translation>
    </message>
    <message>
        <source>SPF is checked for the envelope sender's domain {mail_from}, which does not match the From domain {domain} under {aspf} alignment, and no DKIM key was found for {domain}. Use an envelope sender in {domain}, set aspf=r, or publish the provider's DKIM key.</source>
        <translation>SPF проверяется для домена отправителя конверта {mail_from}, а он не совпадает с доменом From {domain} при правиле {aspf}, и ключ DKIM для {domain} не найден. Используйте отправителя конверта в {domain}, задайте aspf=r или опубликуйте ключ DKIM провайдера.</translation>
    </message>
    <message>
        <source>Neither SPF nor DKIM passes for a domain aligned with {domain}, so receivers apply the DMARC policy to your mail. Authorise the server in SPF and publish the provider's DKIM key.</source>
        <translation>Ни SPF, ни DKIM не проходят для домена, совпадающего с {domain}, поэтому получатели применят к вашим письмам политику DMARC. Разрешите сервер в SPF и опубликуйте ключ DKIM провайдера.</translation>
    </message>
    <message>
        <source>Mail from {domain} will fail DMARC</source>
        <translation>Письма от {domain} не пройдут DMARC</translation>
    </message>
    <message>
        <source>{domain} says it receives no mail (null MX)</source>
        <translation>{domain} объявляет, что не принимает почту (пустой MX)</translation>
    </message>
    <message>
        <source>Replies and bounces to this domain cannot be delivered, and some receivers reject mail from a domain that accepts none.</source>
        <translation>Ответы и уведомления о недоставке на этот домен не доставить, а некоторые получатели отклоняют почту от домена, который сам почту не принимает.</translation>
    </message>
    <message>
        <source>No MX record for {domain}</source>
        <translation>Нет записи MX для {domain}</translation>
    </message>
    <message>
        <source>Replies and bounces to this domain have nowhere to go, and some receivers distrust mail from a domain without MX. Publish the MX records your mail provider gives you.</source>
        <translation>Ответам и уведомлениям о недоставке некуда прийти, а некоторые получатели не доверяют почте от домена без MX. Опубликуйте записи MX, которые даёт ваш почтовый провайдер.</translation>
    </message>
    <message>
        <source>{domain} receives mail</source>
        <translation>{domain} принимает почту</translation>
    </message>
    <message>
        <source>Mail for the domain goes to {hosts}.</source>
        <translation>Почта для домена идёт на {hosts}.</translation>
    </message>
    <message>
        <source>DKIM not checked: no selector known</source>
        <translation>DKIM не проверен: селектор неизвестен</translation>
    </message>
    <message>
        <source>A DKIM key is published under a name (the selector) your provider chooses. Give the selector (--dkim-selector on the command line), or run the delivery round trip, which reads it from the delivered message.</source>
        <translation>Ключ DKIM публикуется под именем (селектором), которое выбирает провайдер. Укажите селектор (--dkim-selector в командной строке) или запустите проверку доставки: она прочитает его из доставленного письма.</translation>
    </message>
    <message>
        <source>A DKIM key is published under a name (the selector) your provider chooses. Type the selector in the DKIM selector field and check the domain again, or run the proof of delivery after a test message: it reads the selector from the delivered message.</source>
        <translation>Ключ DKIM публикуется под именем (селектором), которое выбирает провайдер. Введите селектор в поле «Селектор DKIM» и проверьте домен ещё раз или запустите подтверждение доставки после тестового письма: оно прочитает селектор из доставленного письма.</translation>
    </message>
    <message>
        <source>DKIM key published (selector {selector})</source>
        <translation>Ключ DKIM опубликован (селектор {selector})</translation>
    </message>
    <message>
        <source>Receivers can verify the signature the provider adds to your mail with this key.</source>
        <translation>Этим ключом получатели проверяют подпись, которую провайдер добавляет к вашим письмам.</translation>
    </message>
    <message>
        <source>No DKIM key for {domain}</source>
        <translation>Нет ключа DKIM для {domain}</translation>
    </message>
    <message>
        <source>No key was found under the selectors tried ({selectors}). Turn on DKIM signing for your domain in the provider's admin console and publish the TXT record it shows; the record below is its shape, the key itself comes from the provider.</source>
        <translation>Ключ не найден ни под одним из проверенных селекторов ({selectors}). Включите подпись DKIM для домена в панели администратора провайдера и опубликуйте TXT-запись, которую она покажет; запись ниже — только её вид, сам ключ даёт провайдер.</translation>
    </message>
    <message>
        <source>No MTA-STS for {domain}</source>
        <translation>Нет MTA-STS для {domain}</translation>
    </message>
    <message>
        <source>The MTA-STS record of {domain} is invalid</source>
        <translation>Запись MTA-STS домена {domain} некорректна</translation>
    </message>
    <message>
        <source>MTA-STS (optional) tells other servers to deliver mail to this domain only over verified TLS. It needs this TXT record and a policy file at https://mta-sts.{domain}/.well-known/mta-sts.txt.</source>
        <translation>MTA-STS (необязательно) велит другим серверам доставлять почту на этот домен только по проверенному TLS. Нужны эта TXT-запись и файл политики по адресу https://mta-sts.{domain}/.well-known/mta-sts.txt.</translation>
    </message>
    <message>
        <source>MTA-STS record found</source>
        <translation>Запись MTA-STS найдена</translation>
    </message>
    <message>
        <source>Other servers are told to deliver to this domain over verified TLS. The policy file itself was not fetched.</source>
        <translation>Другим серверам велено доставлять почту на этот домен по проверенному TLS. Сам файл политики не загружался.</translation>
    </message>
    <message>
        <source>TLS reporting (TLS-RPT) is on</source>
        <translation>Отчёты о TLS (TLS-RPT) включены</translation>
    </message>
    <message>
        <source>Other servers send reports about TLS problems delivering to this domain.</source>
        <translation>Другие серверы присылают отчёты о проблемах TLS при доставке на этот домен.</translation>
    </message>
    <message>
        <source>No valid TLS-RPT record for {domain}</source>
        <translation>Нет корректной записи TLS-RPT для {domain}</translation>
    </message>
    <message>
        <source>TLS-RPT (optional) asks other servers to report failed TLS deliveries to an address you choose.</source>
        <translation>TLS-RPT (необязательно) просит другие серверы сообщать о неудачных доставках по TLS на выбранный вами адрес.</translation>
    </message>
    <message>
        <source>DNSSEC: the answers are signed and validated</source>
        <translation>DNSSEC: ответы подписаны и проверены</translation>
    </message>
    <message>
        <source>The resolver confirmed the domain's DNS answers are authentic.</source>
        <translation>Резолвер подтвердил подлинность DNS-ответов домена.</translation>
    </message>
    <message>
        <source>DNSSEC not confirmed</source>
        <translation>DNSSEC не подтверждён</translation>
    </message>
    <message>
        <source>The resolver did not mark the answers as validated: the domain may be unsigned, or the resolver does not check DNSSEC. It is optional for mail, but protects the records above from forgery.</source>
        <translation>Резолвер не отметил ответы как проверенные: домен может быть не подписан или резолвер не проверяет DNSSEC. Для почты это необязательно, но защищает записи выше от подделки.</translation>
    </message>
    <message>
        <source>This check could not be completed</source>
        <translation>Эту проверку не удалось завершить</translation>
    </message>
    <message>
        <source>MailSetup could not read the answer: {error}</source>
        <translation>MailSetup не смог прочитать ответ: {error}</translation>
    </message>
    <message>
        <source>The audit ran out of time ({seconds} s)</source>
        <translation>Время проверки истекло ({seconds} с)</translation>
    </message>
    <message>
        <source>The DNS server did not answer every question about {domain} in time, so some checks above are incomplete. Check the network and the DNS server, or allow more time, and run the audit again.</source>
        <translation>DNS-сервер не ответил вовремя на все вопросы о {domain}, поэтому часть проверок выше неполна. Проверьте сеть и DNS-сервер или дайте больше времени и запустите проверку снова.</translation>
    </message>
    <message>
        <source>{provider} refuses a From address other than the login</source>
        <translation>{provider} отклоняет адрес From, отличный от логина</translation>
    </message>
    <message>
        <source>Mail from {sender} sent with the login {login} is refused by the server. Send from the mailbox's own address, or give the login the right to send as {sender} in the provider's settings.</source>
        <translation>Письмо от {sender}, отправленное под логином {login}, сервер отклонит. Отправляйте с адреса самого ящика или дайте логину право отправлять от имени {sender} в настройках провайдера.</translation>
    </message>
    <message>
        <source>{provider} rewrites the From address to the login</source>
        <translation>{provider} заменяет адрес From на логин</translation>
    </message>
    <message>
        <source>Recipients will see {login} instead of {sender} unless {sender} is added to the account as a verified "send mail as" address.</source>
        <translation>Получатели увидят {login} вместо {sender}, если {sender} не добавлен в аккаунт как подтверждённый адрес «Отправлять письма как».</translation>
    </message>
    <message>
        <source>The From address differs from the login</source>
        <translation>Адрес From отличается от логина</translation>
    </message>
    <message>
        <source>Some servers refuse or rewrite a From address the login does not own. If the test send from {sender} arrived unchanged, this server allows it.</source>
        <translation>Некоторые серверы отклоняют или заменяют адрес From, который не принадлежит логину. Если тестовое письмо от {sender} пришло без изменений, этот сервер такое разрешает.</translation>
    </message>
    <message>
        <source>SPF lets anyone send as {domain}</source>
        <translation>SPF разрешает кому угодно отправлять от имени {domain}</translation>
    </message>
    <message>
        <source>The record ends with "+all": every server in the world passes SPF for this domain, so it protects nothing. End it with "~all" (or "-all") instead.</source>
        <translation>Запись заканчивается на «+all»: любой сервер в мире проходит SPF для этого домена, так что она ни от чего не защищает. Заканчивайте её на «~all» (или «-all»).</translation>
    </message>
    <message>
        <source>The SPF record is valid and needs {lookups} of the 10 DNS lookups allowed. It ends with "?all" (neutral), which tells receivers nothing about other servers: "~all" is safer.</source>
        <translation>Запись SPF корректна и использует {lookups} из 10 разрешённых DNS-запросов. Она заканчивается на «?all» (нейтрально) и ничего не говорит получателям о других серверах: «~all» надёжнее.</translation>
    </message>
    <message>
        <source>The SPF record is valid and needs {lookups} of the 10 DNS lookups allowed.</source>
        <translation>Запись SPF корректна и использует {lookups} из 10 разрешённых DNS-запросов.</translation>
    </message>
    <message>
        <source>SPF record found for {domain}</source>
        <translation>Запись SPF для {domain} найдена</translation>
    </message>
    <message>
        <source>No SPF record for {domain}</source>
        <translation>Нет записи SPF для {domain}</translation>
    </message>
    <message>
        <source>Without SPF, receivers cannot tell which servers may send mail as this domain, and mail from it is more likely to land in spam. Publish one TXT record listing your mail provider.</source>
        <translation>Без SPF получатели не знают, каким серверам можно отправлять почту от имени домена, и письма чаще попадают в спам. Опубликуйте одну TXT-запись с вашим почтовым провайдером.</translation>
    </message>
    <message>
        <source>More than one SPF record for {domain}</source>
        <translation>Больше одной записи SPF для {domain}</translation>
    </message>
    <message>
        <source>A domain may have only one TXT record starting with "v=spf1"; with two, SPF fails for every message. Merge them into one record.</source>
        <translation>У домена может быть только одна TXT-запись, начинающаяся с «v=spf1»; при двух SPF не проходит ни для одного письма. Объедините их в одну запись.</translation>
    </message>
    <message>
        <source>SPF needs too many DNS lookups ({lookups} of 10)</source>
        <translation>SPF требует слишком много DNS-запросов ({lookups} из 10)</translation>
    </message>
    <message>
        <source>SPF allows at most 10 DNS lookups (include, a, mx, ptr, exists, redirect). This record needs {lookups}, so receivers treat it as an error and SPF fails. Remove includes you no longer use or replace "a"/"mx" terms with ip4:/ip6: addresses.</source>
        <translation>SPF допускает не больше 10 DNS-запросов (include, a, mx, ptr, exists, redirect). Этой записи нужно {lookups}, поэтому получатели считают её ошибкой и SPF не проходит. Уберите ненужные include или замените «a»/«mx» адресами ip4:/ip6:.</translation>
    </message>
    <message>
        <source>SPF points at names that do not exist ({voids} void lookups)</source>
        <translation>SPF ссылается на несуществующие имена ({voids} пустых запросов)</translation>
    </message>
    <message>
        <source>More than two terms of the SPF record name domains with no answer; receivers then treat the record as an error. Remove or correct those terms.</source>
        <translation>Больше двух элементов записи SPF указывают на домены без ответа; тогда получатели считают запись ошибкой. Удалите или исправьте эти элементы.</translation>
    </message>
    <message>
        <source>The SPF record of {domain} is invalid</source>
        <translation>Запись SPF домена {domain} некорректна</translation>
    </message>
    <message>
        <source>Receivers cannot read the record, so SPF fails for every message. The problem: {error}</source>
        <translation>Получатели не могут прочитать запись, поэтому SPF не проходит ни для одного письма. Проблема: {error}</translation>
    </message>
    <message>
        <source>its address {address} is listed</source>
        <translation>его адрес {address} указан в записи</translation>
    </message>
    <message>
        <source>it includes the provider's "{include}"</source>
        <translation>запись включает «{include}» провайдера</translation>
    </message>
    <message>
        <source>SPF allows {server} to send for {domain}</source>
        <translation>SPF разрешает {server} отправлять почту от {domain}</translation>
    </message>
    <message>
        <source>The SPF record covers the server you send through: {how}.</source>
        <translation>Запись SPF охватывает сервер, через который вы отправляете: {how}.</translation>
    </message>
    <message>
        <source>The record uses terms MailSetup does not evaluate ({terms}); they may or may not cover the server.</source>
        <translation>В записи есть элементы, которые MailSetup не вычисляет ({terms}); они могут охватывать сервер, а могут и нет.</translation>
    </message>
    <message>
        <source>Mail you send through this server fails SPF for {domain} and may be rejected or marked as spam. Add "{term}" to the record.</source>
        <translation>Письма, отправленные через этот сервер, не проходят SPF для {domain} и могут быть отклонены или помечены как спам. Добавьте в запись «{term}».</translation>
    </message>
    <message>
        <source>SPF does not list {server} for {domain}</source>
        <translation>SPF не разрешает {server} для {domain}</translation>
    </message>
    <message>
        <source>No DNS answer in time for {name}</source>
        <translation>Нет своевременного DNS-ответа для {name}</translation>
    </message>
    <message>
        <source>The DNS server did not answer before the audit's time ran out, so this check could not be made. Check the network or the DNS server and run the audit again.</source>
        <translation>DNS-сервер не ответил до конца отведённого на проверку времени, поэтому эту проверку сделать не удалось. Проверьте сеть или DNS-сервер и запустите проверку снова.</translation>
    </message>
</context>
<context>
    <name>AuditPanel</name>
    <message>
        <source>Checking the DNS records of {domain}…</source>
        <translation>Проверяем DNS-записи {domain}…</translation>
    </message>
    <message>
        <source>{domain}: {ok} fine, {warn} to improve, {fail} failed, {info} notes.</source>
        <translation>{domain}: {ok} в порядке, {warn} стоит улучшить, {fail} с ошибками, {info} для сведения.</translation>
    </message>
    <message>
        <source>Enter the From address on the Account page: its domain is what is checked.</source>
        <translation>Укажите адрес отправителя (From) на странице учётной записи: проверяется его домен.</translation>
    </message>
    <message>
        <source>The audit was cancelled.</source>
        <translation>Проверка отменена.</translation>
    </message>
    <message>
        <source>The audit stopped with an internal error: {error}</source>
        <translation>Проверка остановилась из-за внутренней ошибки: {error}</translation>
    </message>
    <message>
        <source>“{selector}” is not a DKIM selector: use letters, digits, hyphens and underscores, with dots between parts (for example: mail or s1._mx).</source>
        <translation>«{selector}» — не селектор DKIM: используйте латинские буквы, цифры, дефисы и подчёркивания, части разделяйте точками (например: mail или s1._mx).</translation>
    </message>
    <message>
        <source>The DNS records of your From domain (SPF, DKIM, DMARC…) decide whether receivers trust your mail. They are checked here after a test message goes out through your provider, or when you ask.</source>
        <translation>DNS-записи домена отправителя (SPF, DKIM, DMARC…) решают, доверяют ли получатели вашей почте. Они проверяются здесь после отправки тестового письма через провайдера или по вашей команде.</translation>
    </message>
    <message>
        <source>Sender domain check (DNS)</source>
        <translation>Проверка домена отправителя (DNS)</translation>
    </message>
    <message>
        <source>Check the domain</source>
        <translation>Проверить домен</translation>
    </message>
    <message>
        <source>Stop the check</source>
        <translation>Остановить проверку</translation>
    </message>
    <message>
        <source>DKIM selector (optional):</source>
        <translation>Селектор DKIM (необязательно):</translation>
    </message>
    <message>
        <source>As your provider's DNS instructions name it, e.g. mail</source>
        <translation>Как в инструкции провайдера по DNS, например mail</translation>
    </message>
    <message>
        <source>DKIM selector</source>
        <translation>Селектор DKIM</translation>
    </message>
</context>
<context>
    <name>CertificateBox</name>
    <message>
        <source>The server's certificate</source>
        <translation>Сертификат сервера</translation>
    </message>
    <message>
        <source>&amp;Trust this certificate</source>
        <translation>Доверять этому &amp;сертификату</translation>
    </message>
    <message>
        <source>Trust this certificate</source>
        <translation>Доверять этому сертификату</translation>
    </message>
    <message>
        <source>Trust it only if you know this server uses a self-signed or private certificate. The check will then accept exactly this certificate and nothing else.</source>
        <translation>Доверяйте ему, только если точно знаете, что этот сервер использует самоподписанный или частный сертификат. Тогда проверка будет принимать именно этот сертификат и никакой другой.</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Субъект</translation>
    </message>
    <message>
        <source>Issuer</source>
        <translation>Издатель</translation>
    </message>
    <message>
        <source>Names</source>
        <translation>Имена</translation>
    </message>
    <message>
        <source>Valid</source>
        <translation>Срок действия</translation>
    </message>
    <message>
        <source>{start} to {end}</source>
        <translation>с {start} по {end}</translation>
    </message>
</context>
<context>
    <name>CheckAllPanel</name>
    <message>
        <source>Waiting…</source>
        <translation>Ожидает…</translation>
    </message>
    <message>
        <source>Checking {count} accounts…</source>
        <translation>Проверка учётных записей: {count}…</translation>
    </message>
    <message>
        <source>The check stopped: {error}</source>
        <translation>Проверка прервана: {error}</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>Остановлено.</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Ошибка</translation>
    </message>
    <message>
        <source>{seconds} s</source>
        <translation>{seconds} с</translation>
    </message>
    <message>
        <source>{ok} of {total} passed, {failed} failed ({seconds} s).</source>
        <translation>Прошли проверку: {ok} из {total}, с ошибкой: {failed} ({seconds} с).</translation>
    </message>
    <message>
        <source>Not checked</source>
        <translation>Не проверено</translation>
    </message>
    <message>
        <source>Check a&amp;ll</source>
        <translation>Проверить &amp;все</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>&amp;Остановить</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Учётная запись</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Состояние</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Время</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>Проблема</translation>
    </message>
    <message>
        <source>Results of checking every account</source>
        <translation>Результаты проверки всех учётных записей</translation>
    </message>
</context>
<context>
    <name>CheckPage</name>
    <message>
        <source>Checking {host}:{port} ({security})…</source>
        <translation>Проверка {host}:{port} ({security})…</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Проверка…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Отмена…</translation>
    </message>
    <message>
        <source>Connected and logged in, in {ms} ms. Press Next to send a test message.</source>
        <translation>Подключение и вход выполнены за {ms} мс. Нажмите «Далее», чтобы отправить тестовое письмо.</translation>
    </message>
    <message>
        <source>Connected in {ms} ms (no login was tested: no password given).</source>
        <translation>Подключение выполнено за {ms} мс (вход не проверялся: пароль не указан).</translation>
    </message>
    <message>
        <source>The check failed.</source>
        <translation>Проверка не пройдена.</translation>
    </message>
    <message>
        <source>The check stopped with an internal error: {error}</source>
        <translation>Проверка прервана из-за внутренней ошибки: {error}</translation>
    </message>
    <message>
        <source>Check cancelled. Press Retry to run it again.</source>
        <translation>Проверка отменена. Нажмите «Повторить», чтобы запустить её снова.</translation>
    </message>
    <message>
        <source>Choose a CA certificate</source>
        <translation>Выберите сертификат центра сертификации</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt *.cer);;All files (*)</source>
        <translation>Сертификаты (*.pem *.crt *.cer);;Все файлы (*)</translation>
    </message>
    <message>
        <source>Trusting the certificate with SHA-256 {fp}.</source>
        <translation>Сертификат с отпечатком SHA-256 {fp} отмечен как доверенный.</translation>
    </message>
    <message>
        <source>Looking for working settings…</source>
        <translation>Поиск рабочих настроек…</translation>
    </message>
    <message>
        <source>Tried {tried}; {host}:{port} works.</source>
        <translation>Проверено: {tried}; работает {host}:{port}.</translation>
    </message>
    <message>
        <source>No working settings were found automatically. Tried: {tried}.</source>
        <translation>Рабочие настройки автоматически не найдены. Проверено: {tried}.</translation>
    </message>
    <message>
        <source>Connection check</source>
        <translation>Проверка подключения</translation>
    </message>
    <message>
        <source>We connect step by step and stop at the first problem, with the reason and the fix.</source>
        <translation>Подключение идёт по шагам и останавливается на первой проблеме — с указанием причины и способа исправления.</translation>
    </message>
    <message>
        <source>&amp;Check again</source>
        <translation>Проверить &amp;заново</translation>
    </message>
    <message>
        <source>&amp;Retry</source>
        <translation>&amp;Повторить</translation>
    </message>
    <message>
        <source>Cancel chec&amp;k</source>
        <translation>&amp;Отменить проверку</translation>
    </message>
</context>
<context>
    <name>DeliveryBox</name>
    <message>
        <source>Proof of delivery</source>
        <translation>Подтверждение доставки</translation>
    </message>
    <message>
        <source>Delete the test message from the mailbox once it is found</source>
        <translation>Удалить тестовое письмо из ящика, когда оно найдено</translation>
    </message>
    <message>
        <source>After sending, MailSetup looks for the message in the mailbox (Inbox and Spam).</source>
        <translation>После отправки MailSetup поищет письмо в ящике («Входящие» и «Спам»).</translation>
    </message>
    <message>
        <source>Waiting for the message in {host} (up to {seconds} s)…</source>
        <translation>Ждём письмо в ящике на {host} (до {seconds} с)…</translation>
    </message>
    <message>
        <source>the sandbox inbox</source>
        <translation>«Входящие» песочницы</translation>
    </message>
    <message>
        <source>no Authentication-Results from the receiver</source>
        <translation>нет заголовка Authentication-Results от получателя</translation>
    </message>
    <message>
        <source>Landed in {folder} after {seconds} s ({verdicts}).</source>
        <translation>Попало в папку {folder} через {seconds} с ({verdicts}).</translation>
    </message>
    <message>
        <source>Arrived in {folder} after {seconds} s ({verdicts}).</source>
        <translation>Пришло в папку {folder} через {seconds} с ({verdicts}).</translation>
    </message>
    <message>
        <source>Could not look into the mailbox.</source>
        <translation>Не удалось заглянуть в ящик.</translation>
    </message>
    <message>
        <source>Not arrived within {seconds} s.</source>
        <translation>Не пришло за {seconds} с.</translation>
    </message>
</context>
<context>
    <name>Diagnosis</name>
    <message>
        <source>Allow the password without encryption (not recommended)</source>
        <translation>Разрешить передачу пароля без шифрования (не рекомендуется)</translation>
    </message>
    <message>
        <source>Choose CA file…</source>
        <translation>Выбрать файл CA…</translation>
    </message>
    <message>
        <source>Trust this certificate ({sha256})</source>
        <translation>Доверять этому сертификату ({sha256})</translation>
    </message>
    <message>
        <source>Use the name {host}</source>
        <translation>Использовать имя {host}</translation>
    </message>
    <message>
        <source>Use SSL/TLS on port 465</source>
        <translation>Использовать SSL/TLS на порту 465</translation>
    </message>
    <message>
        <source>Find working settings automatically</source>
        <translation>Подобрать рабочие настройки автоматически</translation>
    </message>
    <message>
        <source>Use STARTTLS on port {port}</source>
        <translation>Использовать STARTTLS на порту {port}</translation>
    </message>
    <message>
        <source>{protocol_name} access is switched off for this mailbox</source>
        <translation>Доступ по {protocol_name} для этого ящика выключен</translation>
    </message>
    <message>
        <source>{host} refused {protocol_name} for {user}: {reply}. Many providers (Gmail, Yandex, Mail.ru) have a separate switch for mail programs, and it is often off.</source>
        <translation>{host} отказал в {protocol_name} для {user}: {reply}. У многих провайдеров (Gmail, Яндекс, Mail.ru) есть отдельный переключатель для почтовых программ, и он часто выключен.</translation>
    </message>
    <message>
        <source>Turn on {protocol_name} access in the mailbox's web settings (the section about mail programs), then check again.</source>
        <translation>Включите доступ по {protocol_name} в веб-настройках ящика (раздел о почтовых программах) и повторите проверку.</translation>
    </message>
    <message>
        <source>A company mailbox: ask the administrator whether mail programs are allowed.</source>
        <translation>Корпоративный ящик: спросите администратора, разрешены ли почтовые программы.</translation>
    </message>
    <message>
        <source>The {protocol_name} server rejected the login or password</source>
        <translation>Сервер {protocol_name} не принял логин или пароль</translation>
    </message>
    <message>
        <source>{host} did not accept the login {user} over {protocol_name}: {reply}</source>
        <translation>{host} не принял логин {user} по {protocol_name}: {reply}</translation>
    </message>
    <message>
        <source>Check the login (usually the full address) and the password.</source>
        <translation>Проверьте логин (обычно это полный адрес) и пароль.</translation>
    </message>
    <message>
        <source>If sending works with the same password, {protocol_name} access may be switched off in the mailbox's settings.</source>
        <translation>Если отправка с тем же паролем работает, доступ по {protocol_name} может быть выключен в настройках ящика.</translation>
    </message>
    <message>
        <source>{provider} rejected the {protocol_name} login</source>
        <translation>{provider} не принял вход по {protocol_name}</translation>
    </message>
    <message>
        <source>{host} did not accept the login {user} over {protocol_name}: {reply}. {provider} needs an app password, not the account password, and {protocol_name} access switched on.</source>
        <translation>{host} не принял логин {user} по {protocol_name}: {reply}. {provider} требует пароль приложения, а не пароль от аккаунта, и включённый доступ по {protocol_name}.</translation>
    </message>
    <message>
        <source>Create an app password and use it here (not your normal password).</source>
        <translation>Создайте пароль приложения и введите его здесь (не обычный пароль).</translation>
    </message>
    <message>
        <source>Turn on {protocol_name} access in the mailbox's settings for mail programs.</source>
        <translation>Включите доступ по {protocol_name} в настройках ящика для почтовых программ.</translation>
    </message>
    <message>
        <source>The {protocol_name} server refused the session</source>
        <translation>Сервер {protocol_name} отказал в сеансе</translation>
    </message>
    <message>
        <source>{host}:{port} answered but ended the session: {reply}</source>
        <translation>{host}:{port} ответил, но завершил сеанс: {reply}</translation>
    </message>
    <message>
        <source>If it persists, contact the mail server's administrator.</source>
        <translation>Если повторяется, обратитесь к администратору почтового сервера.</translation>
    </message>
    <message>
        <source>The mailbox is in use by another POP3 session</source>
        <translation>Ящик занят другим сеансом POP3</translation>
    </message>
    <message>
        <source>{host} says another program holds the mailbox open over POP3 ({reply}). The login itself was accepted or was not tried.</source>
        <translation>{host} сообщает, что ящик открыт по POP3 другой программой ({reply}). Вход либо прошёл, либо не проверялся.</translation>
    </message>
    <message>
        <source>Close other mail programs that use POP3 for this mailbox, wait a minute, and check again.</source>
        <translation>Закройте другие почтовые программы, которые забирают почту этого ящика по POP3, подождите минуту и повторите проверку.</translation>
    </message>
    <message>
        <source>{host}:{port} is a {found} server, not {protocol_name}</source>
        <translation>На {host}:{port} работает сервер {found}, а не {protocol_name}</translation>
    </message>
    <message>
        <source>The server greeted with '{reply}', which is {found}. The port belongs to another service: {protocol_name} uses port {ssl_port} (SSL/TLS) or {plain_port} (STARTTLS).</source>
        <translation>Сервер поприветствовал строкой «{reply}» — это {found}. Порт принадлежит другой службе: {protocol_name} работает на порту {ssl_port} (SSL/TLS) или {plain_port} (STARTTLS).</translation>
    </message>
    <message>
        <source>Use port {ssl_port} with SSL/TLS or {plain_port} with STARTTLS.</source>
        <translation>Используйте порт {ssl_port} с SSL/TLS или {plain_port} со STARTTLS.</translation>
    </message>
    <message>
        <source>Check that the host name is the incoming-mail server (imap… or pop…).</source>
        <translation>Проверьте, что имя сервера — это сервер входящей почты (imap… или pop…).</translation>
    </message>
    <message>
        <source>The answer from {host}:{port} is not {protocol_name}</source>
        <translation>Ответ от {host}:{port} — не {protocol_name}</translation>
    </message>
    <message>
        <source>During {stage} the conversation with {host}:{port} broke off: {detail}</source>
        <translation>Во время этапа «{stage}» разговор с {host}:{port} оборвался: {detail}</translation>
    </message>
    <message>
        <source>Check the host and port: {protocol_name} uses {ssl_port} (SSL/TLS) or {plain_port}.</source>
        <translation>Проверьте сервер и порт: {protocol_name} работает на {ssl_port} (SSL/TLS) или {plain_port}.</translation>
    </message>
    <message>
        <source>The {protocol_name} server closed the connection</source>
        <translation>Сервер {protocol_name} закрыл соединение</translation>
    </message>
    <message>
        <source>Check the security mode: port {ssl_port} is SSL/TLS, port {plain_port} is STARTTLS.</source>
        <translation>Проверьте режим защиты: порт {ssl_port} — SSL/TLS, порт {plain_port} — STARTTLS.</translation>
    </message>
    <message>
        <source>Nothing accepts connections on port {port} ({address}). The port is probably wrong.</source>
        <translation>На порту {port} ({address}) никто не принимает соединения. Скорее всего, порт указан неверно.</translation>
    </message>
    <message>
        <source>{protocol_name} uses port {ssl_port} with SSL/TLS or {plain_port} with STARTTLS.</source>
        <translation>{protocol_name} работает на порту {ssl_port} с SSL/TLS или {plain_port} со STARTTLS.</translation>
    </message>
    <message>
        <source>The connection to {address} got no answer within {seconds} s. A firewall or the server is silently dropping connections to this port.</source>
        <translation>Соединение с {address} не получило ответа за {seconds} с. Брандмауэр или сервер молча отбрасывает соединения на этот порт.</translation>
    </message>
    <message>
        <source>Check firewalls and VPNs on this computer and network.</source>
        <translation>Проверьте брандмауэры и VPN на этом компьютере и в сети.</translation>
    </message>
    <message>
        <source>The connection to {host}:{port} was made, but no {protocol_name} greeting came within {seconds} s: an SSL/TLS port waits for a handshake while the client waits for a greeting.</source>
        <translation>Соединение с {host}:{port} установлено, но приветствие {protocol_name} не пришло за {seconds} с: порт SSL/TLS ждёт рукопожатия, а программа ждёт приветствия.</translation>
    </message>
    <message>
        <source>Use SSL/TLS on port {ssl_port}.</source>
        <translation>Используйте SSL/TLS на порту {ssl_port}.</translation>
    </message>
    <message>
        <source>The server on {host}:{port} answered in plain text, so SSL/TLS from the first byte does not work here ({detail}).</source>
        <translation>Сервер {host}:{port} ответил открытым текстом, поэтому SSL/TLS с первого байта здесь не работает ({detail}).</translation>
    </message>
    <message>
        <source>Use STARTTLS on port {plain_port}, or SSL/TLS on port {ssl_port}.</source>
        <translation>Используйте STARTTLS на порту {plain_port} или SSL/TLS на порту {ssl_port}.</translation>
    </message>
    <message>
        <source>The {protocol_name} server does not offer STARTTLS on port {port}</source>
        <translation>Сервер {protocol_name} не предлагает STARTTLS на порту {port}</translation>
    </message>
    <message>
        <source>{host}:{port} does not announce STARTTLS. Either it cannot encrypt on this port, or something on the network removed the offer (STARTTLS stripping). The login was not sent.</source>
        <translation>{host}:{port} не объявляет STARTTLS. Либо сервер не умеет шифровать на этом порту, либо кто-то в сети вырезал это предложение (STARTTLS stripping). Пароль не отправлен.</translation>
    </message>
    <message>
        <source>Use SSL/TLS on port {ssl_port}: it cannot be stripped.</source>
        <translation>Используйте SSL/TLS на порту {ssl_port}: его нельзя вырезать.</translation>
    </message>
    <message>
        <source>If this network is not yours, do not log in over it without encryption.</source>
        <translation>Если сеть не ваша, не входите через неё без шифрования.</translation>
    </message>
    <message>
        <source>The {protocol_name} server refused to start TLS</source>
        <translation>Сервер {protocol_name} отказался включить TLS</translation>
    </message>
    <message>
        <source>{host}:{port} announced STARTTLS but refused it: {reply}</source>
        <translation>{host}:{port} объявил STARTTLS, но отказался его включить: {reply}</translation>
    </message>
    <message>
        <source>The {protocol_name} connection to {host}:{port} is not encrypted, so the password could be read on the way. It was not sent.</source>
        <translation>Соединение {protocol_name} с {host}:{port} не зашифровано, пароль можно было бы перехватить по дороге. Он не отправлен.</translation>
    </message>
    <message>
        <source>Use SSL/TLS on port {ssl_port} or STARTTLS on port {plain_port}.</source>
        <translation>Используйте SSL/TLS на порту {ssl_port} или STARTTLS на порту {plain_port}.</translation>
    </message>
    <message>
        <source>The server allows a login only after encryption</source>
        <translation>Сервер разрешает вход только после включения шифрования</translation>
    </message>
    <message>
        <source>{host}:{port} announces LOGINDISABLED: it takes no password on an unencrypted connection.</source>
        <translation>{host}:{port} объявляет LOGINDISABLED: пароль по незашифрованному соединению он не принимает.</translation>
    </message>
    <message>
        <source>No common way to log in</source>
        <translation>Нет общего способа входа</translation>
    </message>
    <message>
        <source>{host} offers no login method this program can use ({offered}).</source>
        <translation>{host} не предлагает ни одного способа входа, который умеет эта программа ({offered}).</translation>
    </message>
    <message>
        <source>Ask the server's administrator to allow PLAIN or LOGIN over TLS.</source>
        <translation>Попросите администратора сервера разрешить PLAIN или LOGIN поверх TLS.</translation>
    </message>
    <message>
        <source>The test message landed in {folder}</source>
        <translation>Тестовое письмо попало в папку {folder}</translation>
    </message>
    <message>
        <source>The message arrived after {seconds} s but the receiving server filed it as spam. Authentication results: {verdicts}.</source>
        <translation>Письмо пришло через {seconds} с, но принимающий сервер счёл его спамом. Результаты проверки подлинности: {verdicts}.</translation>
    </message>
    <message>
        <source>Make sure SPF, DKIM and DMARC pass for the sender's domain (ask whoever runs its DNS).</source>
        <translation>Убедитесь, что SPF, DKIM и DMARC проходят для домена отправителя (спросите того, кто ведёт его DNS).</translation>
    </message>
    <message>
        <source>Use a From address of the mailbox you log in with.</source>
        <translation>Укажите в From адрес того ящика, под которым выполняется вход.</translation>
    </message>
    <message>
        <source>Mark the message as 'not spam'; a real text instead of a test text also helps.</source>
        <translation>Отметьте письмо как «не спам»; помогает и обычный текст вместо тестового.</translation>
    </message>
    <message>
        <source>The test message has not arrived within {seconds} s</source>
        <translation>Тестовое письмо не пришло за {seconds} с</translation>
    </message>
    <message>
        <source>The server accepted the message, but it was in neither the Inbox nor the spam folder of {user} on {host} within {seconds} s.</source>
        <translation>Сервер принял письмо, но за {seconds} с оно не появилось ни во «Входящих», ни в папке спама ящика {user} на {host}.</translation>
    </message>
    <message>
        <source>Wait a few minutes and look in the mailbox yourself: some providers delay new senders.</source>
        <translation>Подождите несколько минут и загляните в ящик сами: некоторые провайдеры задерживают письма новых отправителей.</translation>
    </message>
    <message>
        <source>Check that the recipient is the mailbox being checked here.</source>
        <translation>Проверьте, что получатель — это тот ящик, который здесь проверяется.</translation>
    </message>
    <message>
        <source>Look for a bounce message in the sender's mailbox.</source>
        <translation>Поищите письмо о недоставке в ящике отправителя.</translation>
    </message>
    <message>
        <source>Open the mail-program settings</source>
        <translation>Открыть настройки почтовых программ</translation>
    </message>
    <message>
        <source>Send the password unencrypted anyway</source>
        <translation>Всё равно отправить пароль без шифрования</translation>
    </message>
    <message>
        <source>The server name {host} could not be found</source>
        <translation>Сервер {host} не найден</translation>
    </message>
    <message>
        <source>The name {host} does not resolve to any address ({detail}). Usually the name is mistyped, or this computer has no working DNS.</source>
        <translation>Имя {host} не разрешается ни в один адрес ({detail}). Обычно это опечатка в имени или на этом компьютере не работает DNS.</translation>
    </message>
    <message>
        <source>Check the spelling of the server name, e.g. smtp.gmail.com, smtp.yandex.ru, smtp.mail.ru.</source>
        <translation>Проверьте написание имени сервера, например: smtp.gmail.com, smtp.yandex.ru, smtp.mail.ru.</translation>
    </message>
    <message>
        <source>Make sure this computer is online: open any website, or run 'nslookup {host}'.</source>
        <translation>Убедитесь, что компьютер подключён к интернету: откройте любой сайт или выполните команду nslookup {host}.</translation>
    </message>
    <message>
        <source>If you are on a corporate network or VPN, ask whether external names are resolved there.</source>
        <translation>Если вы в корпоративной сети или подключены через VPN, уточните, разрешаются ли в ней внешние имена.</translation>
    </message>
    <message>
        <source>The name {host} could not be looked up right now</source>
        <translation>Сейчас не удаётся разрешить имя {host}</translation>
    </message>
    <message>
        <source>The DNS server did not give a final answer for {host} ({detail}). This is usually a temporary network problem.</source>
        <translation>DNS-сервер не дал окончательного ответа для {host} ({detail}). Обычно это временная проблема с сетью.</translation>
    </message>
    <message>
        <source>Wait a moment and try again.</source>
        <translation>Подождите немного и повторите попытку.</translation>
    </message>
    <message>
        <source>Check that this computer is online and its DNS servers work.</source>
        <translation>Проверьте, что компьютер подключён к сети и его DNS-серверы работают.</translation>
    </message>
    <message>
        <source>Looking up {host} took too long</source>
        <translation>Разрешение имени {host} заняло слишком много времени</translation>
    </message>
    <message>
        <source>The DNS lookup for {host} did not finish in time ({detail}).</source>
        <translation>DNS-запрос для {host} не завершился вовремя ({detail}).</translation>
    </message>
    <message>
        <source>Check this computer's internet connection and DNS settings, then try again.</source>
        <translation>Проверьте подключение компьютера к интернету и настройки DNS, затем повторите попытку.</translation>
    </message>
    <message>
        <source>The network path to {host} is unavailable</source>
        <translation>Нет сетевого маршрута до {host}</translation>
    </message>
    <message>
        <source>This computer could not send packets to {address} ({detail}). There may be no internet connection, no IPv6 route, or a firewall blocking the way.</source>
        <translation>Компьютер не смог отправить пакеты на {address} ({detail}). Возможно, нет подключения к интернету, нет маршрута IPv6 или соединение блокирует брандмауэр.</translation>
    </message>
    <message>
        <source>Check that this computer is online.</source>
        <translation>Проверьте, что компьютер подключён к сети.</translation>
    </message>
    <message>
        <source>If only an IPv6 address failed, check IPv6 connectivity or use the server's IPv4 address.</source>
        <translation>Если ошибка возникает только с IPv6-адресом, проверьте работу IPv6 или используйте IPv4-адрес сервера.</translation>
    </message>
    <message>
        <source>Check firewalls and VPN settings that may block outgoing connections.</source>
        <translation>Проверьте брандмауэры и настройки VPN: они могут блокировать исходящие соединения.</translation>
    </message>
    <message>
        <source>{host} refused the connection on port {port}</source>
        <translation>{host} отклонил подключение к порту {port}</translation>
    </message>
    <message>
        <source>The server answered but nothing accepts connections on port {port} ({address}). The port is probably wrong for this server.</source>
        <translation>Сервер доступен, но порт {port} не принимает подключения ({address}). Вероятно, для этого сервера указан неверный порт.</translation>
    </message>
    <message>
        <source>Check the port: 465 is for SSL/TLS, 587 for STARTTLS, 25 for server-to-server mail.</source>
        <translation>Проверьте порт: 465 — для SSL/TLS, 587 — для STARTTLS, 25 — для пересылки почты между серверами.</translation>
    </message>
    <message>
        <source>Try port 587 with STARTTLS or port 465 with SSL/TLS.</source>
        <translation>Попробуйте порт 587 со STARTTLS или порт 465 с SSL/TLS.</translation>
    </message>
    <message>
        <source>Let the program find working settings automatically.</source>
        <translation>Позвольте программе подобрать рабочие настройки автоматически.</translation>
    </message>
    <message>
        <source>Port 587 (STARTTLS) was tried: try port 465 with SSL/TLS.</source>
        <translation>Порт 587 (STARTTLS) уже проверен: попробуйте порт 465 с SSL/TLS.</translation>
    </message>
    <message>
        <source>Port 465 (SSL/TLS) was tried: try port 587 with STARTTLS.</source>
        <translation>Порт 465 (SSL/TLS) уже проверен: попробуйте порт 587 со STARTTLS.</translation>
    </message>
    <message>
        <source>Both submission ports, 587 and 465, refuse connections on {host}. This is probably not the mail server for sending, or it is down.</source>
        <translation>Оба порта отправки, 587 и 465, на {host} отклоняют подключения. Вероятно, это не сервер для отправки почты, или он не работает.</translation>
    </message>
    <message>
        <source>Check the server name in your provider's instructions (e.g. smtp.example.com).</source>
        <translation>Проверьте имя сервера в инструкции вашего провайдера (например, smtp.example.com).</translation>
    </message>
    <message>
        <source>No answer from {host} on port {port}</source>
        <translation>{host} не отвечает на порту {port}</translation>
    </message>
    <message>
        <source>The connection to {address} got no answer within {seconds} s. A firewall, your provider or the server is silently dropping connections to this port.</source>
        <translation>Подключение к {address} осталось без ответа в течение {seconds} с. Брандмауэр, ваш провайдер или сам сервер молча отбрасывает подключения к этому порту.</translation>
    </message>
    <message>
        <source>Try the other submission port: 587 with STARTTLS or 465 with SSL/TLS.</source>
        <translation>Попробуйте другой порт для отправки: 587 со STARTTLS или 465 с SSL/TLS.</translation>
    </message>
    <message>
        <source>Check firewalls, antivirus 'mail shields' and VPNs on this computer and network.</source>
        <translation>Проверьте брандмауэры, «почтовые экраны» антивирусов и VPN на этом компьютере и в сети.</translation>
    </message>
    <message>
        <source>If you are in a cloud or corporate network, ask whether outgoing SMTP is blocked.</source>
        <translation>Если вы в облачной или корпоративной сети, уточните, не заблокирован ли исходящий SMTP.</translation>
    </message>
    <message>
        <source>Port 25 is probably blocked on your network</source>
        <translation>Вероятно, порт 25 заблокирован в вашей сети</translation>
    </message>
    <message>
        <source>The connection to {address} on port 25 got no answer within {seconds} s. Most home internet providers and cloud platforms (AWS, Google Cloud, Azure, many VPS hosts) block outgoing port 25 to stop spam. Port 25 is meant for server-to-server mail, not for programs that log in.</source>
        <translation>Подключение к {address} через порт 25 осталось без ответа в течение {seconds} с. Большинство домашних интернет-провайдеров и облачных платформ (AWS, Google Cloud, Azure, многие VPS-хостинги) блокируют исходящий порт 25 для борьбы со спамом. Порт 25 предназначен для пересылки почты между серверами, а не для программ, которые входят с логином и паролем.</translation>
    </message>
    <message>
        <source>Use port 587 with STARTTLS, or port 465 with SSL/TLS: these are the ports for sending with a login.</source>
        <translation>Используйте порт 587 со STARTTLS или порт 465 с SSL/TLS: это порты для отправки с авторизацией.</translation>
    </message>
    <message>
        <source>If you really need port 25, ask your provider or cloud platform to unblock it.</source>
        <translation>Если вам действительно нужен порт 25, попросите провайдера или облачную платформу разблокировать его.</translation>
    </message>
    <message>
        <source>The server did not greet within {seconds} s</source>
        <translation>Сервер не прислал приветствие за {seconds} с</translation>
    </message>
    <message>
        <source>A connection to {host}:{port} was made, but the server sent no SMTP greeting within {seconds} s. The server may be overloaded, or something in between is holding the connection.</source>
        <translation>Подключение к {host}:{port} установлено, но сервер не прислал SMTP-приветствие за {seconds} с. Возможно, сервер перегружен или соединение задерживает что-то на пути.</translation>
    </message>
    <message>
        <source>Try again in a minute.</source>
        <translation>Повторите попытку через минуту.</translation>
    </message>
    <message>
        <source>Increase the greeting timeout if the server is known to be slow.</source>
        <translation>Если сервер заведомо медленный, увеличьте тайм-аут ожидания приветствия.</translation>
    </message>
    <message>
        <source>Check the port and security mode for this server.</source>
        <translation>Проверьте порт и режим шифрования для этого сервера.</translation>
    </message>
    <message>
        <source>Port {port} is probably waiting for an encrypted (SSL/TLS) connection</source>
        <translation>Вероятно, порт {port} ожидает зашифрованное подключение (SSL/TLS)</translation>
    </message>
    <message>
        <source>The connection to {host}:{port} was made, but the server stayed silent for {seconds} s. That is what an implicit-TLS port (usually 465) does when a client starts without encryption: it waits for a TLS handshake while the client waits for a greeting.</source>
        <translation>Подключение к {host}:{port} установлено, но сервер молчал {seconds} с. Так ведёт себя порт с неявным TLS (обычно 465), когда клиент начинает без шифрования: сервер ждёт TLS-рукопожатия, а клиент — приветствия.</translation>
    </message>
    <message>
        <source>Switch the security mode to SSL/TLS on port {port}.</source>
        <translation>Выберите режим шифрования SSL/TLS для порта {port}.</translation>
    </message>
    <message>
        <source>Or use port 587 with STARTTLS, which starts unencrypted and then upgrades.</source>
        <translation>Или используйте порт 587 со STARTTLS: соединение начинается без шифрования, а затем переходит на TLS.</translation>
    </message>
    <message>
        <source>Port 465 always needs SSL/TLS; port 587 needs STARTTLS.</source>
        <translation>Порт 465 всегда требует SSL/TLS, порт 587 — STARTTLS.</translation>
    </message>
    <message>
        <source>Port {port} speaks SSL/TLS from the first byte</source>
        <translation>Порт {port} работает по SSL/TLS с первого байта</translation>
    </message>
    <message>
        <source>The server on {host}:{port} sent no greeting to an unencrypted start, but a TLS handshake on the same port succeeded within {seconds} s. The port expects implicit SSL/TLS, so the security mode does not match it.</source>
        <translation>Сервер {host}:{port} не прислал приветствие на подключение без шифрования, но TLS-рукопожатие на том же порту прошло за {seconds} с. Порт ожидает SSL/TLS с самого начала, поэтому выбранный режим шифрования ему не подходит.</translation>
    </message>
    <message>
        <source>The server on port {port} accepts connections but says nothing</source>
        <translation>Сервер на порту {port} принимает подключения, но молчит</translation>
    </message>
    <message>
        <source>A connection to {host}:{port} was made, but no SMTP greeting came within {seconds} s, and the port does not answer a TLS handshake either. Changing the security mode will not help: the service behind this port is stuck, or a firewall, proxy or antivirus holds the connection.</source>
        <translation>Подключение к {host}:{port} установлено, но SMTP-приветствие не пришло за {seconds} с, и на TLS-рукопожатие порт тоже не отвечает. Смена режима шифрования не поможет: служба на этом порту зависла, или соединение удерживает межсетевой экран, прокси или антивирус.</translation>
    </message>
    <message>
        <source>Check that the server name and port are right for sending mail.</source>
        <translation>Проверьте, что имя сервера и порт предназначены для отправки почты.</translation>
    </message>
    <message>
        <source>Try the other submission port (587 with STARTTLS, or 465 with SSL/TLS).</source>
        <translation>Попробуйте другой порт отправки (587 со STARTTLS или 465 с SSL/TLS).</translation>
    </message>
    <message>
        <source>If it keeps happening, ask the network or mail server administrator what holds port {port}.</source>
        <translation>Если это повторяется, спросите администратора сети или почтового сервера, что удерживает порт {port}.</translation>
    </message>
    <message>
        <source>The server's greeting did not arrive in time</source>
        <translation>Приветствие сервера не пришло вовремя</translation>
    </message>
    <message>
        <source>The server on {host}:{port} started to send its greeting but did not finish it within {seconds} s. It is very slow or misbehaving.</source>
        <translation>Сервер {host}:{port} начал отправлять приветствие, но не закончил его за {seconds} с. Он работает очень медленно или некорректно.</translation>
    </message>
    <message>
        <source>Sign in again</source>
        <translation>Войти заново</translation>
    </message>
    <message>
        <source>The app needs consent before it may sign in</source>
        <translation>Приложению нужно согласие, прежде чем оно сможет войти</translation>
    </message>
    <message>
        <source>{provider} answered that nobody has agreed yet to let this app ({client_id}) use the mailbox: {description}</source>
        <translation>{provider} ответил, что доступ к ящику для этого приложения ({client_id}) ещё никто не разрешил: {description}</translation>
    </message>
    <message>
        <source>Ask an administrator of the organisation to grant admin consent for the app: {consent_url}</source>
        <translation>Попросите администратора организации дать согласие администратора для приложения: {consent_url}</translation>
    </message>
    <message>
        <source>Then sign in again.</source>
        <translation>Затем войдите заново.</translation>
    </message>
    <message>
        <source>The sign-in has expired or was revoked: sign in again</source>
        <translation>Вход истёк или отозван: войдите заново</translation>
    </message>
    <message>
        <source>{provider} no longer accepts the stored sign-in ({description}). This happens after a password change, a revoked app access or a long time unused.</source>
        <translation>{provider} больше не принимает сохранённый вход ({description}). Так бывает после смены пароля, отзыва доступа приложения или долгого перерыва.</translation>
    </message>
    <message>
        <source>Sign in again; the new sign-in replaces the old one in the keyring.</source>
        <translation>Войдите заново: новый вход заменит старый в связке ключей.</translation>
    </message>
    <message>
        <source>The sign-in was declined</source>
        <translation>Вход отклонён</translation>
    </message>
    <message>
        <source>Access for the app was declined on the {provider} page ({description}).</source>
        <translation>На странице {provider} доступ для приложения был отклонён ({description}).</translation>
    </message>
    <message>
        <source>Sign in again and allow the access the app asks for.</source>
        <translation>Войдите заново и разрешите доступ, который запрашивает приложение.</translation>
    </message>
    <message>
        <source>If the organisation forbids it, ask the administrator to grant consent.</source>
        <translation>Если организация это запрещает, попросите администратора дать согласие.</translation>
    </message>
    <message>
        <source>{provider} does not accept this client id</source>
        <translation>{provider} не принимает этот идентификатор клиента</translation>
    </message>
    <message>
        <source>The client id {client_id} was refused: {description}. It may be mistyped, registered in another tenant, disabled, or missing its secret.</source>
        <translation>Идентификатор клиента {client_id} отклонён: {description}. Возможно, он введён с ошибкой, зарегистрирован в другом клиенте (tenant), отключён или к нему не указан секрет.</translation>
    </message>
    <message>
        <source>Copy the client id (and tenant) again from the app registration.</source>
        <translation>Скопируйте идентификатор клиента (и tenant) из регистрации приложения заново.</translation>
    </message>
    <message>
        <source>Microsoft: turn on 'Allow public client flows' for the app; Google: give the client secret of the Desktop app client.</source>
        <translation>Microsoft: включите для приложения «Разрешить потоки общедоступных клиентов»; Google: укажите секрет клиента типа «Приложение для ПК».</translation>
    </message>
    <message>
        <source>The app registration is disabled</source>
        <translation>Регистрация приложения отключена</translation>
    </message>
    <message>
        <source>{provider} says the app {client_id} is disabled by an administrator ({description}).</source>
        <translation>{provider} сообщает, что приложение {client_id} отключено администратором ({description}).</translation>
    </message>
    <message>
        <source>Ask the administrator to enable the app, or register a new one.</source>
        <translation>Попросите администратора включить приложение или зарегистрируйте новое.</translation>
    </message>
    <message>
        <source>The redirect address is not registered for the app</source>
        <translation>Адрес перенаправления не зарегистрирован для приложения</translation>
    </message>
    <message>
        <source>{provider} refused to send the sign-in back to {redirect_uri}: it is not among the app's redirect addresses ({description}).</source>
        <translation>{provider} отказался вернуть вход на {redirect_uri}: этого адреса нет среди адресов перенаправления приложения ({description}).</translation>
    </message>
    <message>
        <source>Add {redirect_uri} as a redirect address in the app registration.</source>
        <translation>Добавьте {redirect_uri} как адрес перенаправления в регистрации приложения.</translation>
    </message>
    <message>
        <source>The app may not ask for mail access</source>
        <translation>Приложению нельзя запрашивать доступ к почте</translation>
    </message>
    <message>
        <source>{provider} refused the requested permissions {scopes} ({description}).</source>
        <translation>{provider} отказал в запрошенных разрешениях {scopes} ({description}).</translation>
    </message>
    <message>
        <source>Add the mail permissions {scopes} to the app registration.</source>
        <translation>Добавьте в регистрацию приложения почтовые разрешения {scopes}.</translation>
    </message>
    <message>
        <source>The sign-in server gave an error</source>
        <translation>Сервер входа вернул ошибку</translation>
    </message>
    <message>
        <source>{endpoint} answered with an error: {description}</source>
        <translation>{endpoint} ответил ошибкой: {description}</translation>
    </message>
    <message>
        <source>Try again later; if it persists, check the app registration.</source>
        <translation>Повторите позже; если ошибка не уходит, проверьте регистрацию приложения.</translation>
    </message>
    <message>
        <source>The sign-in server did not answer in time</source>
        <translation>Сервер входа не ответил вовремя</translation>
    </message>
    <message>
        <source>{endpoint} gave no answer within {seconds} s.</source>
        <translation>{endpoint} не ответил за {seconds} с.</translation>
    </message>
    <message>
        <source>Check the internet connection, proxy and firewall, then try again.</source>
        <translation>Проверьте подключение к интернету, прокси и брандмауэр, затем повторите.</translation>
    </message>
    <message>
        <source>Try again later.</source>
        <translation>Повторите попытку позже.</translation>
    </message>
    <message>
        <source>The sign-in server cannot be reached</source>
        <translation>Сервер входа недоступен</translation>
    </message>
    <message>
        <source>Connecting to {endpoint} failed: {description}</source>
        <translation>Не удалось подключиться к {endpoint}: {description}</translation>
    </message>
    <message>
        <source>The sign-in server sent an answer that is not OAuth</source>
        <translation>Сервер входа прислал ответ, который не похож на OAuth</translation>
    </message>
    <message>
        <source>{endpoint} answered with something unusable: {description}</source>
        <translation>{endpoint} прислал непригодный ответ: {description}</translation>
    </message>
    <message>
        <source>A proxy or captive portal may be answering instead of the provider: check the network.</source>
        <translation>Возможно, вместо провайдера отвечает прокси или страница авторизации сети: проверьте сеть.</translation>
    </message>
    <message>
        <source>A sign-in answer that this app did not ask for was refused</source>
        <translation>Отклонён ответ на вход, который это приложение не запрашивало</translation>
    </message>
    <message>
        <source>The browser came back with a sign-in that does not belong to this attempt (the state does not match). It was not used: this protects against a forged sign-in.</source>
        <translation>Браузер вернул вход, который не относится к этой попытке (state не совпадает). Он не использован: это защита от подделанного входа.</translation>
    </message>
    <message>
        <source>Start the sign-in again and finish it in the browser window it opens.</source>
        <translation>Начните вход заново и завершите его в открывшемся окне браузера.</translation>
    </message>
    <message>
        <source>The sign-in was not finished in time</source>
        <translation>Вход не завершён вовремя</translation>
    </message>
    <message>
        <source>No sign-in came back within {seconds} s.</source>
        <translation>За {seconds} с вход так и не вернулся.</translation>
    </message>
    <message>
        <source>Start the sign-in again and finish it in the browser.</source>
        <translation>Начните вход заново и завершите его в браузере.</translation>
    </message>
    <message>
        <source>The sign-in code expired</source>
        <translation>Код входа истёк</translation>
    </message>
    <message>
        <source>The code was not entered at {verification_uri} before it expired.</source>
        <translation>Код не был введён на {verification_uri} до истечения срока.</translation>
    </message>
    <message>
        <source>Start the sign-in again and enter the new code promptly.</source>
        <translation>Начните вход заново и сразу введите новый код.</translation>
    </message>
    <message>
        <source>There is no stored sign-in for this account</source>
        <translation>Для этой учётной записи нет сохранённого входа</translation>
    </message>
    <message>
        <source>The keyring holds no OAuth sign-in for the profile {profile}.</source>
        <translation>В связке ключей нет OAuth-входа для профиля {profile}.</translation>
    </message>
    <message>
        <source>Sign in: mailsetup oauth login {profile}</source>
        <translation>Войдите: mailsetup oauth login {profile}</translation>
    </message>
    <message>
        <source>The mail server did not accept the sign-in token</source>
        <translation>Почтовый сервер не принял токен входа</translation>
    </message>
    <message>
        <source>{host} refused the OAuth token for {user} ({mechanism}). The token may be for another account, expired, or lack the mail permission.</source>
        <translation>{host} отклонил OAuth-токен для {user} ({mechanism}). Возможно, токен выдан для другой учётной записи, истёк или не даёт доступа к почте.</translation>
    </message>
    <message>
        <source>Check that {user} is the account you signed in with.</source>
        <translation>Проверьте, что {user} — та учётная запись, под которой выполнен вход.</translation>
    </message>
    <message>
        <source>Sign in again.</source>
        <translation>Войдите заново.</translation>
    </message>
    <message>
        <source>The sign-in token lacks the mail permission</source>
        <translation>У токена входа нет разрешения на почту</translation>
    </message>
    <message>
        <source>{host} refused the token for {user}: it was not issued for mail access ({detail}).</source>
        <translation>{host} отклонил токен для {user}: он выдан не для доступа к почте ({detail}).</translation>
    </message>
    <message>
        <source>Sign in again and allow mail access (scope {detail}).</source>
        <translation>Войдите заново и разрешите доступ к почте (область {detail}).</translation>
    </message>
    <message>
        <source>SMTP AUTH is turned off for this Microsoft 365 mailbox or tenant</source>
        <translation>SMTP AUTH выключен для этого ящика или организации Microsoft 365</translation>
    </message>
    <message>
        <source>The sign-in worked, but Exchange Online refuses authenticated SMTP for the mailbox (5.7.139). OAuth needs SMTP AUTH enabled too.</source>
        <translation>Вход выполнен, но Exchange Online запрещает для ящика SMTP с авторизацией (5.7.139). Для OAuth SMTP AUTH тоже должен быть включён.</translation>
    </message>
    <message>
        <source>Microsoft no longer accepts passwords here: sign in with OAuth</source>
        <translation>Microsoft здесь больше не принимает пароли: войдите через OAuth</translation>
    </message>
    <message>
        <source>{host} answered that Basic authentication is not supported for client submission (5.7.30). Only an OAuth sign-in works for this mailbox.</source>
        <translation>{host} ответил, что вход по паролю (Basic) для отправки не поддерживается (5.7.30). Для этого ящика работает только вход через OAuth.</translation>
    </message>
    <message>
        <source>Choose 'Sign in with Microsoft' (mailsetup oauth login) instead of a password.</source>
        <translation>Выберите «Войти через Microsoft» (mailsetup oauth login) вместо пароля.</translation>
    </message>
    <message>
        <source>Open the admin consent page</source>
        <translation>Открыть страницу согласия администратора</translation>
    </message>
    <message>
        <source>If this keeps happening, contact the mail server's administrator.</source>
        <translation>Если ошибка повторяется, обратитесь к администратору почтового сервера.</translation>
    </message>
    <message>
        <source>The encrypted connection could not be set up</source>
        <translation>Не удалось установить зашифрованное соединение</translation>
    </message>
    <message>
        <source>The TLS handshake with {host}:{port} failed ({detail}).</source>
        <translation>Ошибка TLS-рукопожатия с {host}:{port} ({detail}).</translation>
    </message>
    <message>
        <source>Check that the security mode matches the port: SSL/TLS for 465, STARTTLS for 587.</source>
        <translation>Проверьте, что режим шифрования соответствует порту: SSL/TLS — для 465, STARTTLS — для 587.</translation>
    </message>
    <message>
        <source>If the server is old, it may only support outdated TLS versions; ask its administrator to update it.</source>
        <translation>Старый сервер может поддерживать только устаревшие версии TLS — попросите его администратора обновить сервер.</translation>
    </message>
    <message>
        <source>Check whether antivirus or a proxy intercepts encrypted connections.</source>
        <translation>Проверьте, не перехватывает ли зашифрованные соединения антивирус или прокси.</translation>
    </message>
    <message>
        <source>Port {port} does not use SSL/TLS from the start</source>
        <translation>Порт {port} не использует SSL/TLS с начала соединения</translation>
    </message>
    <message>
        <source>The server on {host}:{port} answered in plain text, so it expects an unencrypted start followed by STARTTLS, not implicit SSL/TLS. The security mode does not match the port ({detail}).</source>
        <translation>Сервер {host}:{port} ответил открытым текстом: он ожидает начало без шифрования с последующим STARTTLS, а не неявный SSL/TLS. Режим шифрования не соответствует порту ({detail}).</translation>
    </message>
    <message>
        <source>Switch the security mode to STARTTLS on port {port}.</source>
        <translation>Выберите режим шифрования STARTTLS для порта {port}.</translation>
    </message>
    <message>
        <source>Or use port 465 with SSL/TLS if the server offers it.</source>
        <translation>Или используйте порт 465 с SSL/TLS, если сервер его поддерживает.</translation>
    </message>
    <message>
        <source>Ports 587 and (usually) 25 use STARTTLS; port 465 uses SSL/TLS.</source>
        <translation>Порты 587 и (обычно) 25 работают со STARTTLS; порт 465 — с SSL/TLS.</translation>
    </message>
    <message>
        <source>The server and this program share no TLS version</source>
        <translation>У сервера и программы нет общей версии TLS</translation>
    </message>
    <message>
        <source>The server on {host}:{port} does not support the TLS versions allowed here ({detail}).</source>
        <translation>Сервер {host}:{port} не поддерживает версии TLS, разрешённые в программе ({detail}).</translation>
    </message>
    <message>
        <source>If you required TLS 1.3, allow TLS 1.2 as well.</source>
        <translation>Если задано требование TLS 1.3, разрешите также TLS 1.2.</translation>
    </message>
    <message>
        <source>If the server only supports TLS 1.0/1.1, it is outdated and insecure: ask its administrator to update it.</source>
        <translation>Если сервер поддерживает только TLS 1.0/1.1, он устарел и небезопасен: попросите его администратора обновить сервер.</translation>
    </message>
    <message>
        <source>The TLS handshake did not finish in time</source>
        <translation>TLS-рукопожатие не завершилось вовремя</translation>
    </message>
    <message>
        <source>The server on {host}:{port} did not complete the TLS handshake ({detail}).</source>
        <translation>Сервер {host}:{port} не завершил TLS-рукопожатие ({detail}).</translation>
    </message>
    <message>
        <source>Try again later; the server may be overloaded.</source>
        <translation>Повторите попытку позже: возможно, сервер перегружен.</translation>
    </message>
    <message>
        <source>The server's certificate is not trusted</source>
        <translation>Сертификат сервера не является доверенным</translation>
    </message>
    <message>
        <source>The certificate of {host} ({subject}, issued by {issuer}) is not signed by an authority this computer trusts ({detail}). This happens with company-internal authorities, or when something intercepts the connection.</source>
        <translation>Сертификат {host} ({subject}, издатель: {issuer}) не подписан центром сертификации, которому доверяет этот компьютер ({detail}). Так бывает с внутренними центрами сертификации компаний или когда соединение кто-то перехватывает.</translation>
    </message>
    <message>
        <source>If your company uses its own certificate authority, add its certificate with the CA file option (--cafile).</source>
        <translation>Если в вашей компании есть собственный центр сертификации, добавьте его сертификат через параметр файла CA (--cafile).</translation>
    </message>
    <message>
        <source>If you trust this server, trust exactly this certificate: SHA-256 {sha256}.</source>
        <translation>Если вы доверяете этому серверу, добавьте в доверенные именно этот сертификат: SHA-256 {sha256}.</translation>
    </message>
    <message>
        <source>Check that antivirus or a proxy is not intercepting the connection.</source>
        <translation>Проверьте, не перехватывает ли соединение антивирус или прокси.</translation>
    </message>
    <message>
        <source>If your company uses its own certificate authority, choose its certificate file (Choose CA file…).</source>
        <translation>Если в вашей компании свой центр сертификации, выберите файл его сертификата («Выбрать файл CA…»).</translation>
    </message>
    <message>
        <source>The server uses a self-signed certificate</source>
        <translation>Сервер использует самоподписанный сертификат</translation>
    </message>
    <message>
        <source>The certificate of {host} ({subject}) is self-signed: nobody vouches for it ({detail}). Anyone in the middle could present such a certificate, so it is not accepted automatically.</source>
        <translation>Сертификат {host} ({subject}) самоподписанный: его подлинность никто не подтверждает ({detail}). Такой сертификат может предъявить любой посредник, поэтому автоматически он не принимается.</translation>
    </message>
    <message>
        <source>Compare the fingerprint with the one the server's administrator gives you: SHA-256 {sha256}.</source>
        <translation>Сверьте отпечаток с тем, который сообщит администратор сервера: SHA-256 {sha256}.</translation>
    </message>
    <message>
        <source>If they match, trust exactly this certificate (it is pinned by its fingerprint).</source>
        <translation>Если они совпадают, добавьте в доверенные именно этот сертификат (он будет закреплён по отпечатку).</translation>
    </message>
    <message>
        <source>Better: ask the administrator to install a certificate from a public authority (for example Let's Encrypt).</source>
        <translation>Лучше попросите администратора установить сертификат от публичного центра сертификации (например, Let's Encrypt).</translation>
    </message>
    <message>
        <source>The certificate changed: it does not match the pinned fingerprint</source>
        <translation>Сертификат изменился: он не совпадает с закреплённым отпечатком</translation>
    </message>
    <message>
        <source>You trusted one specific certificate for {host}, but the server now presents another one (SHA-256 {sha256}). It may have been renewed, or someone may be intercepting the connection.</source>
        <translation>Вы доверили один конкретный сертификат для {host}, но сервер теперь предъявляет другой (SHA-256 {sha256}). Возможно, сертификат обновили или кто-то перехватывает соединение.</translation>
    </message>
    <message>
        <source>Ask the server's administrator whether the certificate was renewed and compare the fingerprint.</source>
        <translation>Уточните у администратора сервера, обновлялся ли сертификат, и сверьте отпечаток.</translation>
    </message>
    <message>
        <source>If it is legitimate, trust the new certificate instead.</source>
        <translation>Если сертификат подлинный, добавьте в доверенные новый сертификат вместо старого.</translation>
    </message>
    <message>
        <source>The certificate is for a different server name</source>
        <translation>Сертификат выдан на другое имя сервера</translation>
    </message>
    <message>
        <source>You connected to {host}, but its certificate is valid only for: {sans} ({detail}). Either the server name is not the official one, or the connection is not going where you expect.</source>
        <translation>Вы подключились к {host}, но его сертификат действителен только для: {sans} ({detail}). Либо это не официальное имя сервера, либо соединение идёт не туда, куда вы ожидаете.</translation>
    </message>
    <message>
        <source>Use the server name that the certificate names (often the provider's official SMTP host).</source>
        <translation>Используйте имя сервера, указанное в сертификате (часто это официальный адрес SMTP-сервера провайдера).</translation>
    </message>
    <message>
        <source>If you connect by IP address or an alias, use the real host name instead.</source>
        <translation>Если вы подключаетесь по IP-адресу или псевдониму, укажите вместо него настоящее имя хоста.</translation>
    </message>
    <message>
        <source>The server's certificate has expired</source>
        <translation>Срок действия сертификата сервера истёк</translation>
    </message>
    <message>
        <source>The certificate of {host} was valid until {not_after}. Expired certificates are not accepted.</source>
        <translation>Сертификат {host} был действителен до {not_after}. Просроченные сертификаты не принимаются.</translation>
    </message>
    <message>
        <source>Check that this computer's date and time are correct.</source>
        <translation>Проверьте, правильно ли установлены дата и время на компьютере.</translation>
    </message>
    <message>
        <source>Tell the server's administrator that the certificate has expired.</source>
        <translation>Сообщите администратору сервера, что срок действия сертификата истёк.</translation>
    </message>
    <message>
        <source>The server's certificate is not valid yet</source>
        <translation>Сертификат сервера ещё не вступил в силу</translation>
    </message>
    <message>
        <source>The certificate of {host} becomes valid only on {not_before}.</source>
        <translation>Сертификат {host} начинает действовать только с {not_before}.</translation>
    </message>
    <message>
        <source>The server does not offer STARTTLS on port {port}</source>
        <translation>Сервер не поддерживает STARTTLS на порту {port}</translation>
    </message>
    <message>
        <source>{host}:{port} does not announce STARTTLS, so the connection cannot be encrypted in STARTTLS mode.</source>
        <translation>{host}:{port} не объявляет поддержку STARTTLS, поэтому в режиме STARTTLS соединение нельзя зашифровать.</translation>
    </message>
    <message>
        <source>If the server offers port 465, use SSL/TLS there.</source>
        <translation>Если у сервера есть порт 465, используйте на нём SSL/TLS.</translation>
    </message>
    <message>
        <source>Check the port: submission with STARTTLS is usually 587.</source>
        <translation>Проверьте порт: для отправки со STARTTLS обычно используется 587.</translation>
    </message>
    <message>
        <source>Only if the network is trusted (e.g. a local relay): choose no encryption.</source>
        <translation>Только в доверенной сети (например, для локального релея): выберите режим без шифрования.</translation>
    </message>
    <message>
        <source>The server refused to start TLS</source>
        <translation>Сервер отказался включать TLS</translation>
    </message>
    <message>
        <source>{host}:{port} announced STARTTLS but then refused to start it (see the server's reply).</source>
        <translation>{host}:{port} объявил поддержку STARTTLS, но отказался его выполнить (см. ответ сервера).</translation>
    </message>
    <message>
        <source>Use port 465 with SSL/TLS if available.</source>
        <translation>Используйте порт 465 с SSL/TLS, если он доступен.</translation>
    </message>
    <message>
        <source>The server rejected the login or password</source>
        <translation>Сервер отклонил логин или пароль</translation>
    </message>
    <message>
        <source>{host} did not accept the login {user} with this password. Most often the password is wrong, or the provider wants an app password instead of the account password.</source>
        <translation>{host} не принял логин {user} с этим паролем. Чаще всего пароль неверный или провайдер требует пароль приложения вместо пароля от учётной записи.</translation>
    </message>
    <message>
        <source>Check the login: most providers want the full email address.</source>
        <translation>Проверьте логин: большинство провайдеров требуют полный адрес электронной почты.</translation>
    </message>
    <message>
        <source>Re-enter the password; check the keyboard layout and Caps Lock.</source>
        <translation>Введите пароль заново; проверьте раскладку клавиатуры и Caps Lock.</translation>
    </message>
    <message>
        <source>If the account has two-step verification, create an app password and use it instead.</source>
        <translation>Если в учётной записи включена двухэтапная аутентификация, создайте пароль приложения и используйте его.</translation>
    </message>
    <message>
        <source>Login failed: {provider} needs an app password</source>
        <translation>Вход не выполнен: {provider} требует пароль приложения</translation>
    </message>
    <message>
        <source>{host} did not accept the login {user}. {provider} does not accept your normal account password from mail programs; it needs a separate app password.</source>
        <translation>{host} не принял логин {user}. {provider} не принимает обычный пароль от учётной записи в почтовых программах — нужен отдельный пароль приложения.</translation>
    </message>
    <message>
        <source>Create an app password in your {provider} account security settings and paste it here.</source>
        <translation>Создайте пароль приложения в настройках безопасности учётной записи {provider} и вставьте его сюда.</translation>
    </message>
    <message>
        <source>Check the login: usually the full email address.</source>
        <translation>Проверьте логин: обычно это полный адрес электронной почты.</translation>
    </message>
    <message>
        <source>If you already use an app password, create a new one: it may have been revoked.</source>
        <translation>Если вы уже используете пароль приложения, создайте новый: старый мог быть отозван.</translation>
    </message>
    <message>
        <source>Login failed: the API key was not accepted</source>
        <translation>Вход не выполнен: API-ключ не принят</translation>
    </message>
    <message>
        <source>{host} did not accept the login {user} with this key.</source>
        <translation>{host} не принял логин {user} с этим ключом.</translation>
    </message>
    <message>
        <source>Check that the login is exactly what {provider} requires (some use a fixed login such as 'apikey').</source>
        <translation>Проверьте, что логин именно такой, какой требует {provider} (некоторые сервисы используют фиксированный логин, например «apikey»).</translation>
    </message>
    <message>
        <source>Create a new API key with permission to send mail and paste it here.</source>
        <translation>Создайте новый API-ключ с правом отправки почты и вставьте его сюда.</translation>
    </message>
    <message>
        <source>Password login (SMTP AUTH) is turned off for this Microsoft 365 account</source>
        <translation>Вход по паролю (SMTP AUTH) отключён для этой учётной записи Microsoft 365</translation>
    </message>
    <message>
        <source>The server says authenticated SMTP (password login) is disabled for the organisation or the mailbox. Microsoft turns it off by default; the password itself may be right.</source>
        <translation>Сервер сообщает, что SMTP с проверкой подлинности (вход по паролю) отключён для организации или почтового ящика. Microsoft отключает его по умолчанию; сам пароль при этом может быть верным.</translation>
    </message>
    <message>
        <source>the capability exchange</source>
        <translation>обмен возможностями</translation>
    </message>
    <message>
        <source>the search for the test message</source>
        <translation>поиск тестового письма</translation>
    </message>
    <message>
        <source>The server</source>
        <translation>Сервер</translation>
    </message>
    <message>
        <source>…</source>
        <translation>…</translation>
    </message>
    <message>
        <source>In the Microsoft 365 admin center, enable 'Authenticated SMTP' for this mailbox (Users &gt; Mail &gt; Manage email apps).</source>
        <translation>В центре администрирования Microsoft 365 включите для этого ящика «Authenticated SMTP» (Users &gt; Mail &gt; Manage email apps).</translation>
    </message>
    <message>
        <source>Or have the administrator allow SMTP AUTH for the organisation (Set-TransportConfig -SmtpClientAuthenticationDisabled $false).</source>
        <translation>Или попросите администратора разрешить SMTP AUTH для всей организации (Set-TransportConfig -SmtpClientAuthenticationDisabled $false).</translation>
    </message>
    <message>
        <source>Or use OAuth2 (XOAUTH2) instead of a password.</source>
        <translation>Или используйте OAuth2 (XOAUTH2) вместо пароля.</translation>
    </message>
    <message>
        <source>The provider wants you to sign in through a web browser first</source>
        <translation>Провайдер требует сначала войти в учётную запись через браузер</translation>
    </message>
    <message>
        <source>The server refused the login and asks for a sign-in in a web browser or another verification first.</source>
        <translation>Сервер отклонил вход и требует сначала войти через браузер или пройти другую проверку.</translation>
    </message>
    <message>
        <source>Sign in to the account in a web browser and confirm any security prompt.</source>
        <translation>Войдите в учётную запись через браузер и подтвердите все запросы безопасности.</translation>
    </message>
    <message>
        <source>Then create an app password and use it here.</source>
        <translation>Затем создайте пароль приложения и используйте его здесь.</translation>
    </message>
    <message>
        <source>No common login method</source>
        <translation>Нет общего способа входа</translation>
    </message>
    <message>
        <source>The server offers login methods {offered}, but the chosen method is {wanted}.</source>
        <translation>Сервер поддерживает способы входа {offered}, а выбран способ {wanted}.</translation>
    </message>
    <message>
        <source>Choose the login method 'auto' or one the server offers.</source>
        <translation>Выберите способ входа «auto» или один из поддерживаемых сервером.</translation>
    </message>
    <message>
        <source>The server does not offer a login on this connection</source>
        <translation>Сервер не поддерживает вход в этом соединении</translation>
    </message>
    <message>
        <source>{host}:{port} does not announce AUTH, so it cannot check a login here. It may be a relay that only accepts mail from certain networks, or login is only offered on another port.</source>
        <translation>{host}:{port} не объявляет AUTH, поэтому проверить логин здесь нельзя. Возможно, это релей, который принимает почту только из определённых сетей, или вход доступен только на другом порту.</translation>
    </message>
    <message>
        <source>Use the submission port (587 with STARTTLS or 465 with SSL/TLS).</source>
        <translation>Используйте порт для отправки почты (587 со STARTTLS или 465 с SSL/TLS).</translation>
    </message>
    <message>
        <source>If this is a trusted relay that needs no login, leave the login and password empty.</source>
        <translation>Если это доверенный релей, не требующий входа, оставьте логин и пароль пустыми.</translation>
    </message>
    <message>
        <source>The server refused the login method {mechanism}</source>
        <translation>Сервер отклонил способ входа {mechanism}</translation>
    </message>
    <message>
        <source>{host} does not accept the login method {mechanism}, although it was chosen.</source>
        <translation>{host} не принимает выбранный способ входа {mechanism}.</translation>
    </message>
    <message>
        <source>Choose the login method 'auto' or another one the server offers.</source>
        <translation>Выберите способ входа «auto» или другой, поддерживаемый сервером.</translation>
    </message>
    <message>
        <source>Login is only offered after encryption is switched on</source>
        <translation>Вход доступен только после включения шифрования</translation>
    </message>
    <message>
        <source>You chose no encryption, but {host}:{port} offers a login only after STARTTLS. It will not accept a password over an unencrypted connection.</source>
        <translation>Выбран режим без шифрования, но {host}:{port} разрешает вход только после STARTTLS. Пароль по незашифрованному соединению сервер не примет.</translation>
    </message>
    <message>
        <source>Or use SSL/TLS on port 465.</source>
        <translation>Или используйте SSL/TLS на порту 465.</translation>
    </message>
    <message>
        <source>The password would be sent unencrypted</source>
        <translation>Пароль был бы передан без шифрования</translation>
    </message>
    <message>
        <source>The connection to {host}:{port} is not encrypted, so the password could be read by anyone on the way. It was not sent.</source>
        <translation>Соединение с {host}:{port} не зашифровано, поэтому пароль мог бы прочитать любой на пути передачи. Пароль не отправлен.</translation>
    </message>
    <message>
        <source>Use STARTTLS (port 587) or SSL/TLS (port 465).</source>
        <translation>Используйте STARTTLS (порт 587) или SSL/TLS (порт 465).</translation>
    </message>
    <message>
        <source>Only on a trusted network: explicitly allow sending the password without encryption.</source>
        <translation>Только в доверенной сети: явно разрешите передачу пароля без шифрования.</translation>
    </message>
    <message>
        <source>This account needs an app password</source>
        <translation>Для этой учётной записи нужен пароль приложения</translation>
    </message>
    <message>
        <source>The server says the normal account password cannot be used here. Accounts with two-step verification need a separate app password for mail programs.</source>
        <translation>Сервер сообщает, что обычный пароль от учётной записи здесь использовать нельзя. Для учётных записей с двухэтапной аутентификацией почтовым программам нужен отдельный пароль приложения.</translation>
    </message>
    <message>
        <source>Turn on two-step verification for the account if it is not on yet.</source>
        <translation>Включите двухэтапную аутентификацию для учётной записи, если она ещё не включена.</translation>
    </message>
    <message>
        <source>Create an app password in the account security settings and use it instead of your normal password.</source>
        <translation>Создайте пароль приложения в настройках безопасности учётной записи и используйте его вместо обычного пароля.</translation>
    </message>
    <message>
        <source>Paste it exactly; spaces shown in groups do not matter.</source>
        <translation>Вставьте его точно как есть; пробелы между группами символов значения не имеют.</translation>
    </message>
    <message>
        <source>The server refused the sender address {address}</source>
        <translation>Сервер отклонил адрес отправителя {address}</translation>
    </message>
    <message>
        <source>{host} would not accept mail from {address} (see the server's reply).</source>
        <translation>{host} не принимает почту от {address} (см. ответ сервера).</translation>
    </message>
    <message>
        <source>Check the sender address for typos.</source>
        <translation>Проверьте адрес отправителя на опечатки.</translation>
    </message>
    <message>
        <source>Use the address of the account you log in with ({user}).</source>
        <translation>Используйте адрес учётной записи, под которой выполняется вход ({user}).</translation>
    </message>
    <message>
        <source>You may not send as {address}</source>
        <translation>Нельзя отправлять почту от имени {address}</translation>
    </message>
    <message>
        <source>{host} only lets you send from addresses that belong to your account ({user}).</source>
        <translation>{host} разрешает отправку только с адресов, принадлежащих вашей учётной записи ({user}).</translation>
    </message>
    <message>
        <source>Use your own mailbox address as the sender.</source>
        <translation>Укажите в качестве отправителя адрес своего почтового ящика.</translation>
    </message>
    <message>
        <source>To send as another address, add it as an alias or 'send as' address in the provider's settings first.</source>
        <translation>Чтобы отправлять с другого адреса, сначала добавьте его в настройках провайдера как псевдоним или адрес «Отправлять как».</translation>
    </message>
    <message>
        <source>The server temporarily refused the sender {address}</source>
        <translation>Сервер временно отклонил отправителя {address}</translation>
    </message>
    <message>
        <source>{host} refused mail from {address} for now; this is usually temporary.</source>
        <translation>{host} пока не принимает почту от {address}; обычно это временно.</translation>
    </message>
    <message>
        <source>Try again later; you may have hit a sending limit.</source>
        <translation>Повторите попытку позже: возможно, превышен лимит отправки.</translation>
    </message>
    <message>
        <source>The server wants a login before it accepts mail</source>
        <translation>Сервер принимает почту только после входа</translation>
    </message>
    <message>
        <source>{host} takes mail from {address} only after a login.</source>
        <translation>{host} принимает почту от {address} только после входа.</translation>
    </message>
    <message>
        <source>Enter the login and password of the mailbox and try again.</source>
        <translation>Введите логин и пароль почтового ящика и повторите попытку.</translation>
    </message>
    <message>
        <source>The server wants encryption before it accepts mail</source>
        <translation>Сервер принимает почту только по зашифрованному соединению</translation>
    </message>
    <message>
        <source>{host} does not take mail over an unencrypted connection.</source>
        <translation>{host} не принимает почту по незашифрованному соединению.</translation>
    </message>
    <message>
        <source>Switch the security mode to STARTTLS on port {port}, or use SSL/TLS on port 465.</source>
        <translation>Выберите режим шифрования STARTTLS для порта {port} или используйте SSL/TLS на порту 465.</translation>
    </message>
    <message>
        <source>The address {address} needs internationalized email support</source>
        <translation>Для адреса {address} нужна поддержка интернационализированной почты</translation>
    </message>
    <message>
        <source>The address {address} contains non-ASCII characters, but {host} does not support SMTPUTF8.</source>
        <translation>Адрес {address} содержит символы не из набора ASCII, но {host} не поддерживает SMTPUTF8.</translation>
    </message>
    <message>
        <source>Use an ASCII-only address (or its punycode form for the domain).</source>
        <translation>Используйте адрес только из символов ASCII (для домена — его запись в punycode).</translation>
    </message>
    <message>
        <source>The server refused the recipient(s): {addresses}</source>
        <translation>Сервер отклонил получателей: {addresses}</translation>
    </message>
    <message>
        <source>{host} would not accept mail for {addresses} (see the server's reply).</source>
        <translation>{host} не принимает почту для {addresses} (см. ответ сервера).</translation>
    </message>
    <message>
        <source>Check the recipient addresses for typos.</source>
        <translation>Проверьте адреса получателей на опечатки.</translation>
    </message>
    <message>
        <source>If the server refuses to relay, make sure you are logged in.</source>
        <translation>Если сервер отказывается пересылать почту, убедитесь, что вход выполнен.</translation>
    </message>
    <message>
        <source>Some recipients were refused: {addresses}</source>
        <translation>Часть получателей отклонена: {addresses}</translation>
    </message>
    <message>
        <source>The message went to {accepted}, but {host} refused {addresses}.</source>
        <translation>Письмо отправлено на {accepted}, но {host} отклонил {addresses}.</translation>
    </message>
    <message>
        <source>Check the refused addresses for typos and send to them again.</source>
        <translation>Проверьте отклонённые адреса на опечатки и отправьте на них письмо ещё раз.</translation>
    </message>
    <message>
        <source>The server will not relay mail to {addresses}</source>
        <translation>Сервер не пересылает почту на {addresses}</translation>
    </message>
    <message>
        <source>{host} refuses to pass mail on to other domains for this connection. Usually the login is missing or the wrong port is used.</source>
        <translation>{host} отказывается пересылать почту в другие домены для этого соединения. Обычно причина в том, что не выполнен вход или используется не тот порт.</translation>
    </message>
    <message>
        <source>Log in with your account (enter login and password).</source>
        <translation>Выполните вход под своей учётной записью (укажите логин и пароль).</translation>
    </message>
    <message>
        <source>Use the submission port 587 or 465 rather than 25.</source>
        <translation>Используйте для отправки порт 587 или 465, а не 25.</translation>
    </message>
    <message>
        <source>You are logged in as {user}, yet {host} refuses to pass mail on to {addresses}. The account may not be allowed to send to other domains, or only from its own address.</source>
        <translation>Вход выполнен как {user}, но {host} отказывается пересылать почту на {addresses}. Возможно, этой учётной записи нельзя отправлять письма в другие домены или можно только со своего адреса.</translation>
    </message>
    <message>
        <source>Send from the address that belongs to the account you logged in with.</source>
        <translation>Отправляйте с адреса, который принадлежит учётной записи, под которой выполнен вход.</translation>
    </message>
    <message>
        <source>Ask the mail administrator whether this account may send to external recipients.</source>
        <translation>Спросите администратора почты, может ли эта учётная запись отправлять письма внешним получателям.</translation>
    </message>
    <message>
        <source>The recipient address {address} contains non-ASCII characters, but {host} does not support SMTPUTF8.</source>
        <translation>Адрес получателя {address} содержит символы не из набора ASCII, но {host} не поддерживает SMTPUTF8.</translation>
    </message>
    <message>
        <source>Use an ASCII-only address for this recipient.</source>
        <translation>Укажите для этого получателя адрес только из символов ASCII.</translation>
    </message>
    <message>
        <source>The server rejected the message</source>
        <translation>Сервер отклонил письмо</translation>
    </message>
    <message>
        <source>{host} accepted the sender and recipients but refused the message itself (see the server's reply).</source>
        <translation>{host} принял отправителя и получателей, но отклонил само письмо (см. ответ сервера).</translation>
    </message>
    <message>
        <source>Read the server's reason below; remove suspicious content or attachments and try again.</source>
        <translation>Причина указана в ответе сервера ниже; удалите подозрительное содержимое или вложения и повторите попытку.</translation>
    </message>
    <message>
        <source>The message is too big for the server</source>
        <translation>Письмо слишком большое для этого сервера</translation>
    </message>
    <message>
        <source>{host} refused the message because of its size.</source>
        <translation>{host} отклонил письмо из-за его размера.</translation>
    </message>
    <message>
        <source>Send smaller attachments, or share large files by link.</source>
        <translation>Отправляйте вложения меньшего размера, а большие файлы передавайте по ссылке.</translation>
    </message>
    <message>
        <source>The server's policy or spam filter rejected the message</source>
        <translation>Письмо отклонено политикой сервера или спам-фильтром</translation>
    </message>
    <message>
        <source>{host} refused the message by policy (spam filter or sender rules).</source>
        <translation>{host} отклонил письмо согласно своей политике (спам-фильтр или правила для отправителей).</translation>
    </message>
    <message>
        <source>Make sure the sender address belongs to your account and domain (SPF/DKIM/DMARC).</source>
        <translation>Убедитесь, что адрес отправителя принадлежит вашей учётной записи и домену (SPF/DKIM/DMARC).</translation>
    </message>
    <message>
        <source>Avoid test messages with empty subject or body; try a normal short text.</source>
        <translation>Не отправляйте тестовые письма с пустой темой или текстом; попробуйте обычный короткий текст.</translation>
    </message>
    <message>
        <source>The server did not behave like an SMTP server</source>
        <translation>Сервер ведёт себя не как SMTP-сервер</translation>
    </message>
    <message>
        <source>The conversation with {host}:{port} broke off during {stage}: {detail}</source>
        <translation>Обмен данными с {host}:{port} прервался на этапе {stage}: {detail}</translation>
    </message>
    <message>
        <source>Check the host and port: they may belong to another service.</source>
        <translation>Проверьте хост и порт: возможно, они относятся к другой службе.</translation>
    </message>
    <message>
        <source>Try again; if it persists, contact the server's administrator.</source>
        <translation>Повторите попытку; если ошибка повторится, обратитесь к администратору сервера.</translation>
    </message>
    <message>
        <source>The answer from {host}:{port} is not SMTP</source>
        <translation>Ответ от {host}:{port} — не SMTP</translation>
    </message>
    <message>
        <source>During {stage} the server sent something that is not an SMTP reply ({detail}). The port probably belongs to another service (a web or IMAP server), or a proxy or antivirus interferes.</source>
        <translation>На этапе {stage} сервер прислал данные, не являющиеся ответом SMTP ({detail}). Вероятно, порт принадлежит другой службе (веб- или IMAP-серверу) либо мешает прокси или антивирус.</translation>
    </message>
    <message>
        <source>Check the port: SMTP submission is 587 (STARTTLS) or 465 (SSL/TLS).</source>
        <translation>Проверьте порт: для отправки по SMTP используются 587 (STARTTLS) или 465 (SSL/TLS).</translation>
    </message>
    <message>
        <source>Check that the host name is the SMTP server, not the web or IMAP server.</source>
        <translation>Убедитесь, что указано имя SMTP-сервера, а не веб- или IMAP-сервера.</translation>
    </message>
    <message>
        <source>The server sent an over-long answer</source>
        <translation>Сервер прислал слишком длинный ответ</translation>
    </message>
    <message>
        <source>During {stage} the server sent {detail}; a real SMTP server never does that. The port probably belongs to another service.</source>
        <translation>На этапе {stage} сервер прислал {detail}; настоящий SMTP-сервер так никогда не делает. Вероятно, порт принадлежит другой службе.</translation>
    </message>
    <message>
        <source>Check the host and port.</source>
        <translation>Проверьте хост и порт.</translation>
    </message>
    <message>
        <source>Contact the server's administrator if they are right.</source>
        <translation>Если они указаны верно, обратитесь к администратору сервера.</translation>
    </message>
    <message>
        <source>The server closed the connection</source>
        <translation>Сервер закрыл соединение</translation>
    </message>
    <message>
        <source>{host}:{port} dropped the connection during {stage}. It may limit connections, block your address, or expect a different security mode.</source>
        <translation>{host}:{port} разорвал соединение на этапе {stage}. Возможно, сервер ограничивает число подключений, блокирует ваш адрес или ожидает другой режим шифрования.</translation>
    </message>
    <message>
        <source>Check that the security mode matches the port (465: SSL/TLS, 587: STARTTLS).</source>
        <translation>Проверьте, что режим шифрования соответствует порту (465 — SSL/TLS, 587 — STARTTLS).</translation>
    </message>
    <message>
        <source>Wait a few minutes and try again; too many attempts can get your address blocked temporarily.</source>
        <translation>Подождите несколько минут и повторите попытку: из-за слишком частых попыток ваш адрес могут временно заблокировать.</translation>
    </message>
    <message>
        <source>The server stopped answering</source>
        <translation>Сервер перестал отвечать</translation>
    </message>
    <message>
        <source>During {stage} {host}:{port} gave {detail}.</source>
        <translation>На этапе {stage} сервер {host}:{port} не ответил вовремя ({detail}).</translation>
    </message>
    <message>
        <source>Check firewalls or antivirus that inspect mail traffic.</source>
        <translation>Проверьте брандмауэры и антивирусы, которые проверяют почтовый трафик.</translation>
    </message>
    <message>
        <source>The server stopped taking the message</source>
        <translation>Сервер перестал принимать письмо</translation>
    </message>
    <message>
        <source>While the message was uploaded to {host}:{port}, {detail}.</source>
        <translation>Во время передачи письма на {host}:{port}: {detail}.</translation>
    </message>
    <message>
        <source>Try again with a smaller attachment, or on a faster connection.</source>
        <translation>Попробуйте ещё раз с вложением поменьше или через более быстрое подключение.</translation>
    </message>
    <message>
        <source>The server refused to talk to this computer</source>
        <translation>Сервер отказался работать с этим компьютером</translation>
    </message>
    <message>
        <source>{host} rejected both EHLO and HELO, the first commands of every session.</source>
        <translation>{host} отклонил и EHLO, и HELO — первые команды любого сеанса.</translation>
    </message>
    <message>
        <source>Set an EHLO name that is a real host name of this computer.</source>
        <translation>Укажите в качестве имени EHLO настоящее имя хоста этого компьютера.</translation>
    </message>
    <message>
        <source>Your address may be on a block list; try another network or ask the server's administrator.</source>
        <translation>Возможно, ваш адрес в чёрном списке; попробуйте другую сеть или обратитесь к администратору сервера.</translation>
    </message>
    <message>
        <source>The check stopped on an unexpected problem</source>
        <translation>Проверка прервана из-за непредвиденной ошибки</translation>
    </message>
    <message>
        <source>During {stage} an unexpected error occurred: {detail}</source>
        <translation>На этапе {stage} произошла непредвиденная ошибка: {detail}</translation>
    </message>
    <message>
        <source>Try again; if it persists, report it with the -vv transcript (it never contains your password).</source>
        <translation>Повторите попытку; если ошибка повторится, сообщите о ней и приложите протокол, полученный с -vv (пароль в него никогда не попадает).</translation>
    </message>
    <message>
        <source>The server refused the session</source>
        <translation>Сервер отказал в сеансе</translation>
    </message>
    <message>
        <source>{host}:{port} answered but is not accepting mail now. It may be overloaded, under maintenance, or refusing your address.</source>
        <translation>{host}:{port} ответил, но сейчас не принимает почту. Возможно, сервер перегружен, на обслуживании или отвергает ваш адрес.</translation>
    </message>
    <message>
        <source>If it keeps refusing, your IP address may be blocked; try another network or contact the provider.</source>
        <translation>Если отказы продолжаются, возможно, ваш IP-адрес заблокирован; попробуйте другую сеть или обратитесь к провайдеру.</translation>
    </message>
    <message>
        <source>The server is busy or closing the connection</source>
        <translation>Сервер занят или закрывает соединение</translation>
    </message>
    <message>
        <source>{host}:{port} answered 421: it cannot serve you right now and closes the connection.</source>
        <translation>{host}:{port} ответил кодом 421: сейчас он не может обслужить запрос и закрывает соединение.</translation>
    </message>
    <message>
        <source>Wait a few minutes and try again.</source>
        <translation>Подождите несколько минут и повторите попытку.</translation>
    </message>
    <message>
        <source>Too many connections from your address can cause this; close other mail programs.</source>
        <translation>Причиной может быть слишком много подключений с вашего адреса; закройте другие почтовые программы.</translation>
    </message>
    <message>
        <source>The server has a temporary problem</source>
        <translation>Временная ошибка на сервере</translation>
    </message>
    <message>
        <source>{host} reported a temporary failure.</source>
        <translation>{host} сообщил о временном сбое.</translation>
    </message>
    <message>
        <source>Try again in a few minutes.</source>
        <translation>Повторите попытку через несколько минут.</translation>
    </message>
    <message>
        <source>The proxy did not work</source>
        <translation>Ошибка прокси</translation>
    </message>
    <message>
        <source>The connection through the proxy {proxy} failed: {reason}</source>
        <translation>Не удалось подключиться через прокси {proxy}: {reason}</translation>
    </message>
    <message>
        <source>Check the proxy address, port and type (socks5, socks4, http).</source>
        <translation>Проверьте адрес, порт и тип прокси (socks5, socks4, http).</translation>
    </message>
    <message>
        <source>Try without the proxy to see whether it is the cause.</source>
        <translation>Попробуйте без прокси, чтобы понять, не в нём ли причина.</translation>
    </message>
    <message>
        <source>The proxy address is not valid</source>
        <translation>Неверный адрес прокси</translation>
    </message>
    <message>
        <source>The proxy setting could not be understood: {reason}</source>
        <translation>Не удалось разобрать настройку прокси: {reason}</translation>
    </message>
    <message>
        <source>Write it like socks5://host:1080, socks5://user:password@host:1080 or http://host:8080.</source>
        <translation>Укажите его в виде socks5://host:1080, socks5://user:password@host:1080 или http://host:8080.</translation>
    </message>
    <message>
        <source>The proxy cannot be reached</source>
        <translation>Прокси недоступен</translation>
    </message>
    <message>
        <source>Connecting to the proxy {proxy} failed: {reason}</source>
        <translation>Не удалось подключиться к прокси {proxy}: {reason}</translation>
    </message>
    <message>
        <source>Check that the proxy is running and its address and port are right.</source>
        <translation>Проверьте, что прокси запущен, а его адрес и порт указаны верно.</translation>
    </message>
    <message>
        <source>The proxy rejected the login</source>
        <translation>Прокси отклонил вход</translation>
    </message>
    <message>
        <source>The proxy {proxy} did not accept the credentials: {reason}</source>
        <translation>Прокси {proxy} не принял учётные данные: {reason}</translation>
    </message>
    <message>
        <source>Check the proxy user name and password in the proxy address.</source>
        <translation>Проверьте имя пользователя и пароль прокси в его адресе.</translation>
    </message>
    <message>
        <source>The proxy cannot reach the mail server</source>
        <translation>Прокси не может подключиться к почтовому серверу</translation>
    </message>
    <message>
        <source>The proxy {proxy} could not or would not connect to {target}: {reason}</source>
        <translation>Прокси {proxy} не смог или отказался подключиться к {target}: {reason}</translation>
    </message>
    <message>
        <source>Check that the proxy allows connections to mail ports (465, 587).</source>
        <translation>Проверьте, что прокси разрешает подключения к почтовым портам (465, 587).</translation>
    </message>
    <message>
        <source>Try the other submission port.</source>
        <translation>Попробуйте другой порт для отправки.</translation>
    </message>
    <message>
        <source>The proxy did not answer in time</source>
        <translation>Прокси не ответил вовремя</translation>
    </message>
    <message>
        <source>No answer through the proxy {proxy}: {reason}</source>
        <translation>Нет ответа через прокси {proxy}: {reason}</translation>
    </message>
    <message>
        <source>Check that the proxy is running and reachable.</source>
        <translation>Проверьте, что прокси запущен и доступен.</translation>
    </message>
    <message>
        <source>Increase the timeout if the proxy is slow.</source>
        <translation>Если прокси работает медленно, увеличьте тайм-аут.</translation>
    </message>
    <message>
        <source>The proxy speaks a different protocol</source>
        <translation>Прокси работает по другому протоколу</translation>
    </message>
    <message>
        <source>The other side at {proxy} did not answer like the proxy type in the address: {reason}</source>
        <translation>Ответ от {proxy} не соответствует типу прокси, указанному в адресе: {reason}</translation>
    </message>
    <message>
        <source>Check the proxy type in the address: socks5://, socks4://, socks4a:// or http://.</source>
        <translation>Проверьте тип прокси в адресе: socks5://, socks4://, socks4a:// или http://.</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Отменено</translation>
    </message>
    <message>
        <source>The check was cancelled during {stage}; the connection was closed.</source>
        <translation>Проверка отменена на этапе {stage}; соединение закрыто.</translation>
    </message>
    <message>
        <source>The settings are not complete</source>
        <translation>Настройки заполнены не полностью</translation>
    </message>
    <message>
        <source>{field}: {message}</source>
        <translation>{field}: {message}</translation>
    </message>
    <message>
        <source>Correct the highlighted field and try again.</source>
        <translation>Исправьте выделенное поле и повторите попытку.</translation>
    </message>
    <message>
        <source>Login and password go together</source>
        <translation>Логин и пароль указываются вместе</translation>
    </message>
    <message>
        <source>The password is missing: give both a login and a password to check the login, or neither to check only the connection.</source>
        <translation>Не указан пароль: чтобы проверить вход, укажите и логин, и пароль; чтобы проверить только соединение, не указывайте ни того, ни другого.</translation>
    </message>
    <message>
        <source>Enter the password, or clear the login to check only the connection.</source>
        <translation>Введите пароль или очистите логин, чтобы проверить только соединение.</translation>
    </message>
    <message>
        <source>The login is missing: give both a login and a password to check the login, or neither to check only the connection.</source>
        <translation>Не указан логин: чтобы проверить вход, укажите и логин, и пароль; чтобы проверить только соединение, не указывайте ни того, ни другого.</translation>
    </message>
    <message>
        <source>Enter the login, or clear the password to check only the connection.</source>
        <translation>Введите логин или очистите пароль, чтобы проверить только соединение.</translation>
    </message>
    <message>
        <source>the DNS lookup</source>
        <translation>«поиск в DNS»</translation>
    </message>
    <message>
        <source>the connection</source>
        <translation>«подключение»</translation>
    </message>
    <message>
        <source>the TLS handshake</source>
        <translation>«установка TLS»</translation>
    </message>
    <message>
        <source>the greeting</source>
        <translation>«приветствие сервера»</translation>
    </message>
    <message>
        <source>the EHLO exchange</source>
        <translation>«EHLO»</translation>
    </message>
    <message>
        <source>the STARTTLS upgrade</source>
        <translation>«STARTTLS»</translation>
    </message>
    <message>
        <source>the login</source>
        <translation>«вход»</translation>
    </message>
    <message>
        <source>the MAIL FROM command</source>
        <translation>«MAIL FROM»</translation>
    </message>
    <message>
        <source>the RCPT TO command</source>
        <translation>«RCPT TO»</translation>
    </message>
    <message>
        <source>the message transfer (DATA)</source>
        <translation>«передача письма (DATA)»</translation>
    </message>
    <message>
        <source>the QUIT command</source>
        <translation>«QUIT»</translation>
    </message>
    <message>
        <source>The message is not valid</source>
        <translation>Некорректные параметры письма</translation>
    </message>
    <message>
        <source>Correct the field and try again.</source>
        <translation>Исправьте поле и повторите попытку.</translation>
    </message>
    <message>
        <source>{port} with {security_label} works: switch?</source>
        <translation>Работает вариант: порт {port}, {security_label}. Переключиться?</translation>
    </message>
    <message>
        <source>Try port 587 with STARTTLS</source>
        <translation>Попробовать порт 587 со STARTTLS</translation>
    </message>
    <message>
        <source>Try port 465 with SSL/TLS</source>
        <translation>Попробовать порт 465 с SSL/TLS</translation>
    </message>
    <message>
        <source>Use SSL/TLS on port {port}</source>
        <translation>Использовать SSL/TLS на порту {port}</translation>
    </message>
    <message>
        <source>Use STARTTLS on port 587</source>
        <translation>Использовать STARTTLS на порту 587</translation>
    </message>
    <message>
        <source>Create an app password</source>
        <translation>Создать пароль приложения</translation>
    </message>
    <message>
        <source>Open the provider's page</source>
        <translation>Открыть страницу провайдера</translation>
    </message>
    <message>
        <source>a status without further detail</source>
        <translation>состояние без подробностей</translation>
    </message>
    <message>
        <source>a problem with an address (the recipient's or the sender's)</source>
        <translation>проблему с адресом (получателя или отправителя)</translation>
    </message>
    <message>
        <source>a problem with the recipient's mailbox</source>
        <translation>проблему с ящиком получателя</translation>
    </message>
    <message>
        <source>a problem with the receiving mail system</source>
        <translation>проблему в принимающей почтовой системе</translation>
    </message>
    <message>
        <source>a network or routing problem</source>
        <translation>проблему сети или маршрутизации</translation>
    </message>
    <message>
        <source>a problem in the SMTP conversation (a command the server did not accept)</source>
        <translation>проблему в SMTP-диалоге (сервер не принял команду)</translation>
    </message>
    <message>
        <source>a problem with the message's content or format</source>
        <translation>проблему с содержимым или форматом письма</translation>
    </message>
    <message>
        <source>a security or policy decision (permission, login, anti-spam)</source>
        <translation>решение безопасности или политики (права, вход, антиспам)</translation>
    </message>
    <message>
        <source>the recipient's mailbox does not exist</source>
        <translation>что ящика получателя не существует</translation>
    </message>
    <message>
        <source>the recipient's domain does not exist or takes no mail</source>
        <translation>что домена получателя нет или он не принимает почту</translation>
    </message>
    <message>
        <source>the recipient's address is not a valid address</source>
        <translation>что адрес получателя записан неверно</translation>
    </message>
    <message>
        <source>the recipient's mailbox has moved</source>
        <translation>что ящик получателя переехал</translation>
    </message>
    <message>
        <source>the sender's address is not a valid address</source>
        <translation>что адрес отправителя записан неверно</translation>
    </message>
    <message>
        <source>the sender's domain is not valid</source>
        <translation>что домен отправителя недействителен</translation>
    </message>
    <message>
        <source>the recipient's domain declares that it takes no mail (null MX)</source>
        <translation>что домен получателя объявил, что не принимает почту (null MX)</translation>
    </message>
    <message>
        <source>the recipient's mailbox is disabled</source>
        <translation>что ящик получателя отключён</translation>
    </message>
    <message>
        <source>the recipient's mailbox is full</source>
        <translation>что ящик получателя переполнен</translation>
    </message>
    <message>
        <source>the message is longer than the recipient's mailbox accepts</source>
        <translation>что письмо больше, чем принимает ящик получателя</translation>
    </message>
    <message>
        <source>the message is too big for the receiving system</source>
        <translation>что письмо слишком велико для принимающей системы</translation>
    </message>
    <message>
        <source>the receiving server did not answer</source>
        <translation>что принимающий сервер не ответил</translation>
    </message>
    <message>
        <source>no route to the recipient's mail server (a DNS or MX problem)</source>
        <translation>что нет пути к почтовому серверу получателя (проблема DNS или MX)</translation>
    </message>
    <message>
        <source>the delivery time ran out</source>
        <translation>что истекло время доставки</translation>
    </message>
    <message>
        <source>the server did not accept a command</source>
        <translation>что сервер не принял команду</translation>
    </message>
    <message>
        <source>too many recipients</source>
        <translation>что получателей слишком много</translation>
    </message>
    <message>
        <source>a security or policy reason the server does not name</source>
        <translation>причину безопасности или политики, которую сервер не называет</translation>
    </message>
    <message>
        <source>delivery is not authorised: the message was refused</source>
        <translation>что доставка не разрешена: письмо отклонено</translation>
    </message>
    <message>
        <source>the login credentials are not valid</source>
        <translation>что данные для входа неверны</translation>
    </message>
    <message>
        <source>the login method is too weak for this account</source>
        <translation>что способ входа слишком слаб для этого аккаунта</translation>
    </message>
    <message>
        <source>the SPF check of the sender's domain failed</source>
        <translation>что проверка SPF домена отправителя не пройдена</translation>
    </message>
    <message>
        <source>the reverse DNS check of the sending server failed</source>
        <translation>что проверка обратной DNS-записи отправляющего сервера не пройдена</translation>
    </message>
    <message>
        <source>several sender authentication checks (SPF, DKIM, DMARC) failed</source>
        <translation>что не пройдены несколько проверок подлинности отправителя (SPF, DKIM, DMARC)</translation>
    </message>
    <message>
        <source>the sender's domain declares that it sends no mail (null MX)</source>
        <translation>что домен отправителя объявил, что не отправляет почту (null MX)</translation>
    </message>
    <message>
        <source>A failure MailSetup has no specific advice for</source>
        <translation>Ошибка, для которой у MailSetup нет особого совета</translation>
    </message>
    <message>
        <source>The reply {reply_code} {status} matches no case MailSetup knows. By its status code it means {status_meaning}.</source>
        <translation>Ответ {reply_code} {status} не подходит ни под один известный MailSetup случай. По коду состояния он означает {status_meaning}.</translation>
    </message>
    <message>
        <source>Read the server's own words below: they usually name the reason.</source>
        <translation>Прочитайте текст самого сервера ниже: обычно в нём названа причина.</translation>
    </message>
    <message>
        <source>If the reason is unclear, send the whole bounce to the recipient's mail administrator.</source>
        <translation>Если причина неясна, отправьте весь отчёт о недоставке администратору почты получателя.</translation>
    </message>
    <message>
        <source>A permanent failure MailSetup has no specific advice for</source>
        <translation>Постоянная ошибка, для которой у MailSetup нет особого совета</translation>
    </message>
    <message>
        <source>The reply {reply_code} {status} matches no case MailSetup knows. It is a permanent failure: sending the same message again fails the same way. By its status code it means {status_meaning}.</source>
        <translation>Ответ {reply_code} {status} не подходит ни под один известный MailSetup случай. Это постоянная ошибка: повторная отправка того же письма закончится так же. По коду состояния он означает {status_meaning}.</translation>
    </message>
    <message>
        <source>A temporary failure MailSetup has no specific advice for</source>
        <translation>Временная ошибка, для которой у MailSetup нет особого совета</translation>
    </message>
    <message>
        <source>The reply {reply_code} {status} matches no case MailSetup knows. It is a temporary failure: the server may accept the message later, and mail servers retry by themselves. By its status code it means {status_meaning}.</source>
        <translation>Ответ {reply_code} {status} не подходит ни под один известный MailSetup случай. Это временная ошибка: сервер может принять письмо позже, а почтовые серверы повторяют отправку сами. По коду состояния он означает {status_meaning}.</translation>
    </message>
    <message>
        <source>Wait and try again later.</source>
        <translation>Подождите и повторите позже.</translation>
    </message>
    <message>
        <source>If it keeps failing, read the server's own words below for the reason.</source>
        <translation>Если ошибка повторяется, прочитайте причину в тексте сервера ниже.</translation>
    </message>
    <message>
        <source>This reply is not a failure</source>
        <translation>Этот ответ — не ошибка</translation>
    </message>
    <message>
        <source>The reply {reply_code} {status} means the server accepted the command or the message (or, for a 3xx reply, waits for more).</source>
        <translation>Ответ {reply_code} {status} означает, что сервер принял команду или письмо (а ответ 3xx — что он ждёт продолжения).</translation>
    </message>
    <message>
        <source>If mail still goes missing, look for a bounce message and decode that.</source>
        <translation>Если письма всё равно пропадают, найдите отчёт о недоставке и расшифруйте его.</translation>
    </message>
    <message>
        <source>the name does not match the certificate</source>
        <translation>имя сервера не совпадает с сертификатом</translation>
    </message>
    <message>
        <source>the certificate has expired</source>
        <translation>срок действия сертификата истёк</translation>
    </message>
    <message>
        <source>the certificate is not valid yet</source>
        <translation>сертификат ещё не вступил в силу</translation>
    </message>
    <message>
        <source>the certificate is self-signed</source>
        <translation>сертификат самоподписанный</translation>
    </message>
    <message>
        <source>the issuing authority is unknown</source>
        <translation>центр сертификации, выдавший сертификат, неизвестен</translation>
    </message>
    <message>
        <source>OpenSSL: “{message}”</source>
        <translation>OpenSSL: «{message}»</translation>
    </message>
</context>
<context>
    <name>DiagnosisPanel</name>
    <message>
        <source>What to do:</source>
        <translation>Что делать:</translation>
    </message>
    <message>
        <source>Server said: {reply}</source>
        <translation>Ответ сервера: {reply}</translation>
    </message>
    <message>
        <source>&amp;Retry</source>
        <translation>Повто&amp;рить</translation>
    </message>
</context>
<context>
    <name>ExplainDialog</name>
    <message>
        <source>Open a bounce message</source>
        <translation>Открыть отчёт о недоставке</translation>
    </message>
    <message>
        <source>Email messages (*.eml *.msg *.txt);;All files (*)</source>
        <translation>Письма (*.eml *.msg *.txt);;Все файлы (*)</translation>
    </message>
    <message>
        <source>{file} cannot be read: {reason}</source>
        <translation>Не удалось прочитать {file}: {reason}</translation>
    </message>
    <message>
        <source>{file} is larger than 1 MB; a bounce is much smaller.</source>
        <translation>{file} больше 1 МБ; отчёт о недоставке гораздо меньше.</translation>
    </message>
    <message>
        <source>Paste a server reply or a bounce message first.</source>
        <translation>Сначала вставьте ответ сервера или отчёт о недоставке.</translation>
    </message>
    <message>
        <source>This is larger than 1 MB; paste only the bounce or the reply.</source>
        <translation>Текст больше 1 МБ; вставьте только отчёт о недоставке или ответ сервера.</translation>
    </message>
    <message>
        <source>No SMTP reply or delivery status was found in this text.</source>
        <translation>В этом тексте не найдено ни ответа SMTP, ни статуса доставки.</translation>
    </message>
    <message>
        <source>A server reply</source>
        <translation>Ответ сервера</translation>
    </message>
    <message>
        <source>A delivery status notification with {count} recipient(s)</source>
        <translation>Уведомление о статусе доставки, получателей: {count}</translation>
    </message>
    <message>
        <source>A bounce message with {count} reply(ies)</source>
        <translation>Отчёт о недоставке, ответов сервера: {count}</translation>
    </message>
    <message>
        <source>(provider: {name})</source>
        <translation>(провайдер: {name})</translation>
    </message>
    <message>
        <source>Only the first part was read; the rest is left out.</source>
        <translation>Прочитана только первая часть; остальное пропущено.</translation>
    </message>
    <message>
        <source>Decode a server reply</source>
        <translation>Расшифровка ответа сервера</translation>
    </message>
    <message>
        <source>Paste an SMTP reply (for example '535 5.7.8 Username and Password not accepted') or a whole bounce message, or open a saved .eml file.</source>
        <translation>Вставьте ответ SMTP-сервера (например, «535 5.7.8 Username and Password not accepted») или весь отчёт о недоставке либо откройте сохранённый файл .eml.</translation>
    </message>
    <message>
        <source>Server reply or bounce message</source>
        <translation>Ответ сервера или отчёт о недоставке</translation>
    </message>
    <message>
        <source>&amp;Provider:</source>
        <translation>&amp;Провайдер:</translation>
    </message>
    <message>
        <source>Recognise automatically</source>
        <translation>Определить автоматически</translation>
    </message>
    <message>
        <source>&amp;Open .eml…</source>
        <translation>&amp;Открыть .eml…</translation>
    </message>
    <message>
        <source>&amp;Decode</source>
        <translation>&amp;Расшифровать</translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation>Получатель</translation>
    </message>
</context>
<context>
    <name>FindingRow</name>
    <message>
        <source>Copied</source>
        <translation>Скопировано</translation>
    </message>
    <message>
        <source>DNS record to publish</source>
        <translation>DNS-запись для публикации</translation>
    </message>
    <message>
        <source>Copy record</source>
        <translation>Копировать запись</translation>
    </message>
    <message>
        <source>Copy this DNS record to the clipboard</source>
        <translation>Скопировать эту DNS-запись в буфер обмена</translation>
    </message>
</context>
<context>
    <name>Fleet</name>
    <message>
        <source>Profile problem</source>
        <translation>Проблема с профилем</translation>
    </message>
    <message>
        <source>The password of '{name}' is no longer in {where}.</source>
        <translation>Пароля профиля «{name}» больше нет в {where}.</translation>
    </message>
    <message>
        <source>Add the profile again with its password.</source>
        <translation>Добавьте профиль заново вместе с паролем.</translation>
    </message>
    <message>
        <source>Stored password not found</source>
        <translation>Сохранённый пароль не найден</translation>
    </message>
    <message>
        <source>The proxy password of '{name}' is no longer in {where}.</source>
        <translation>Пароля прокси профиля «{name}» больше нет в {where}.</translation>
    </message>
    <message>
        <source>Stored proxy password not found</source>
        <translation>Сохранённый пароль прокси не найден</translation>
    </message>
    <message>
        <source>No stored password</source>
        <translation>Пароль не сохранён</translation>
    </message>
    <message>
        <source>'{name}' was saved without its password: check it on its own, or save it again with the password.</source>
        <translation>Профиль «{name}» сохранён без пароля: проверьте его отдельно или сохраните заново с паролем.</translation>
    </message>
    <message>
        <source>The local sandbox server could not start.</source>
        <translation>Не удалось запустить локальный тестовый сервер.</translation>
    </message>
    <message>
        <source>Not checked in time</source>
        <translation>Не проверен вовремя</translation>
    </message>
    <message>
        <source>The overall deadline of {seconds} s passed first; allow more time or more parallel checks.</source>
        <translation>Общий лимит времени ({seconds} с) истёк раньше; дайте больше времени или больше параллельных проверок.</translation>
    </message>
    <message>
        <source>Saved entry cannot be read</source>
        <translation>Сохранённую запись невозможно прочитать</translation>
    </message>
    <message>
        <source>Delete the profile and add it again.</source>
        <translation>Удалите профиль и добавьте его заново.</translation>
    </message>
    <message>
        <source>The check could not run</source>
        <translation>Проверку не удалось запустить</translation>
    </message>
</context>
<context>
    <name>GuidePage</name>
    <message>
        <source>Before you start:</source>
        <translation>Перед началом:</translation>
    </message>
    <message>
        <source>What you get:</source>
        <translation>Что вы получите:</translation>
    </message>
    <message>
        <source>Good to know:</source>
        <translation>Полезно знать:</translation>
    </message>
    <message>
        <source>Open page</source>
        <translation>Открыть</translation>
    </message>
    <message>
        <source>The browser could not be opened. Open this address yourself: {url}</source>
        <translation>Не удалось открыть браузер. Откройте этот адрес сами: {url}</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>Скопировано</translation>
    </message>
    <message>
        <source>Create an API key at {name}</source>
        <translation>{name}: создание API-ключа</translation>
    </message>
    <message>
        <source>{name} does not take your account password for SMTP: it takes an API key.</source>
        <translation>{name} не принимает пароль учётной записи для SMTP — нужен API-ключ.</translation>
    </message>
    <message>
        <source>I have &amp;created the API key and copied it</source>
        <translation>API-ключ &amp;создан и скопирован</translation>
    </message>
    <message>
        <source>Copy the SMTP credentials from {name}</source>
        <translation>{name}: копирование учётных данных SMTP</translation>
    </message>
    <message>
        <source>{name} generates a login and a password for you; copy both.</source>
        <translation>{name} генерирует для вас логин и пароль — скопируйте оба.</translation>
    </message>
    <message>
        <source>I have &amp;copied the generated login and password</source>
        <translation>Сгенерированные логин и пароль &amp;скопированы</translation>
    </message>
    <message>
        <source>Prepare your password for {name}</source>
        <translation>{name}: подготовка пароля</translation>
    </message>
    <message>
        <source>{name} accepts your mailbox password once SMTP access is enabled.</source>
        <translation>{name} принимает пароль от почтового ящика, когда включён доступ по SMTP.</translation>
    </message>
    <message>
        <source>I have &amp;enabled SMTP access</source>
        <translation>Доступ по SMTP &amp;включён</translation>
    </message>
    <message>
        <source>Create an app password at {name}</source>
        <translation>{name}: создание пароля приложения</translation>
    </message>
    <message>
        <source>{name} rejects your normal password in mail programs. Create a separate app password.</source>
        <translation>{name} не принимает обычный пароль в почтовых программах. Создайте отдельный пароль приложения.</translation>
    </message>
    <message>
        <source>I have &amp;created the password</source>
        <translation>Пароль приложения &amp;создан</translation>
    </message>
    <message>
        <source>I &amp;already have one</source>
        <translation>У меня &amp;уже есть пароль</translation>
    </message>
    <message>
        <source>Cop&amp;y the address</source>
        <translation>Скопировать &amp;адрес</translation>
    </message>
</context>
<context>
    <name>IncomingCheckBox</name>
    <message>
        <source>Checking the login to {host}:{port}…</source>
        <translation>Проверяем вход на {host}:{port}…</translation>
    </message>
    <message>
        <source>Incoming mail ({protocol})</source>
        <translation>Входящая почта ({protocol})</translation>
    </message>
    <message>
        <source>{protocol} login works ({host}:{port}, {ms} ms).</source>
        <translation>Вход по {protocol} работает ({host}:{port}, {ms} мс).</translation>
    </message>
    <message>
        <source>{protocol} server answers ({host}:{port}, {ms} ms); no login was tested.</source>
        <translation>Сервер {protocol} отвечает ({host}:{port}, {ms} мс); вход не проверялся.</translation>
    </message>
    <message>
        <source>The {protocol} check failed.</source>
        <translation>Проверка {protocol} не прошла.</translation>
    </message>
</context>
<context>
    <name>Log</name>
    <message>
        <source>Settings found by {source}: {url}</source>
        <translation>Настройки найдены через {source}: {url}</translation>
    </message>
    <message>
        <source>Settings found by {source} over plain HTTP: {url} (not trusted without confirmation).</source>
        <translation>Настройки найдены через {source} по незащищённому HTTP: {url} (без подтверждения им не доверяем).</translation>
    </message>
    <message>
        <source>Settings found by {source} after a redirect to another domain: {url} (not trusted without confirmation).</source>
        <translation>Настройки найдены через {source} после перенаправления на другой домен: {url} (без подтверждения им не доверяем).</translation>
    </message>
    <message>
        <source>{domain} is served by {provider} (known provider).</source>
        <translation>Почту {domain} обслуживает {provider} (известный провайдер).</translation>
    </message>
    <message>
        <source>DNS is not configured on this computer; trying the usual server names.</source>
        <translation>На этом компьютере не настроен DNS; пробуем обычные имена серверов.</translation>
    </message>
    <message>
        <source>DNS did not answer within {seconds} s; trying the usual server names.</source>
        <translation>DNS не ответил за {seconds} с; пробуем обычные имена серверов.</translation>
    </message>
    <message>
        <source>The domain {domain} does not exist in DNS (NXDOMAIN).</source>
        <translation>Домена {domain} нет в DNS (NXDOMAIN).</translation>
    </message>
    <message>
        <source>MX of {domain}: {hosts}.</source>
        <translation>MX домена {domain}: {hosts}.</translation>
    </message>
    <message>
        <source>{domain} receives mail at {provider} ({host}); using its settings.</source>
        <translation>Почта {domain} приходит на {provider} ({host}); берём его настройки.</translation>
    </message>
    <message>
        <source>{domain} publishes submission SRV records: {records}.</source>
        <translation>Домен {domain} публикует SRV-записи для отправки: {records}.</translation>
    </message>
    <message>
        <source>Trying the usual server names for {domain}: {hosts}.</source>
        <translation>Пробуем обычные имена серверов для {domain}: {hosts}.</translation>
    </message>
    <message>
        <source>None of {hosts} exists in DNS, and {domain} publishes no submission records.</source>
        <translation>Ни одного из имён {hosts} нет в DNS, и {domain} не публикует записей для отправки.</translation>
    </message>
    <message>
        <source>Trying the mail exchangers of {domain}: {hosts}.</source>
        <translation>Пробуем почтовые серверы (MX) домена {domain}: {hosts}.</translation>
    </message>
    <message>
        <source>{port} with no encryption</source>
        <translation>порт {port} без шифрования</translation>
    </message>
    <message>
        <source>{port} with {security}</source>
        <translation>порт {port} с {security}</translation>
    </message>
    <message>
        <source>A second client ({client}) succeeded where the first failed ({detail}); the settings work, the first client had a problem.</source>
        <translation>Вторая программа ({client}) справилась там, где первая не смогла ({detail}): настройки рабочие, проблема была в первой программе.</translation>
    </message>
    <message>
        <source>A second client ({client}) connected but did not verify the login; the failure stands.</source>
        <translation>Вторая программа ({client}) подключилась, но вход не проверила: ошибка остаётся в силе.</translation>
    </message>
    <message>
        <source>Confirmed by a second client ({client}): {detail}.</source>
        <translation>Подтверждено второй программой ({client}): {detail}.</translation>
    </message>
    <message>
        <source>No time left within the overall timeout for a second opinion.</source>
        <translation>В общем времени ожидания не осталось времени на проверку второй программой.</translation>
    </message>
    <message>
        <source>Not a definitive answer yet; asking a second client and trying {settings}.</source>
        <translation>Окончательного ответа пока нет: спрашиваем вторую программу и пробуем {settings}.</translation>
    </message>
    <message>
        <source>Not a definitive answer yet; asking a second client.</source>
        <translation>Окончательного ответа пока нет: спрашиваем вторую программу.</translation>
    </message>
    <message>
        <source>The second client had no result within the overall timeout.</source>
        <translation>Вторая программа не получила результата за общее время ожидания.</translation>
    </message>
    <message>
        <source>{settings} works: switch?</source>
        <translation>Вариант {settings} работает: переключиться?</translation>
    </message>
    <message>
        <source>{settings} does not work either: {problem}.</source>
        <translation>Вариант {settings} тоже не работает: {problem}.</translation>
    </message>
    <message>
        <source>{settings} does not work either.</source>
        <translation>Вариант {settings} тоже не работает.</translation>
    </message>
    <message>
        <source>Verifying the login on {server}.</source>
        <translation>Проверяем вход на {server}.</translation>
    </message>
    <message>
        <source>the certificate does not match the pinned fingerprint</source>
        <translation>сертификат не совпадает с сохранённым отпечатком</translation>
    </message>
    <message>
        <source>greeting {reply}</source>
        <translation>приветствие {reply}</translation>
    </message>
    <message>
        <source>the server offers no STARTTLS</source>
        <translation>сервер не предлагает STARTTLS</translation>
    </message>
    <message>
        <source>connected and logged in</source>
        <translation>подключилась и вошла</translation>
    </message>
    <message>
        <source>connected</source>
        <translation>подключилась</translation>
    </message>
    <message>
        <source>login not tried: unencrypted connection not allowed</source>
        <translation>вход не пробовали: соединение без шифрования не разрешено</translation>
    </message>
    <message>
        <source>login not tried: the server offers no AUTH</source>
        <translation>вход не пробовали: сервер не предлагает AUTH</translation>
    </message>
    <message>
        <source>login not tried: the server does not offer {mechanism}</source>
        <translation>вход не пробовали: сервер не предлагает {mechanism}</translation>
    </message>
    <message>
        <source>login refused: {reply}</source>
        <translation>вход отклонён: {reply}</translation>
    </message>
    <message>
        <source>no answer within {seconds} s</source>
        <translation>нет ответа за {seconds} с</translation>
    </message>
    <message>
        <source>certificate not trusted: “{reason}”</source>
        <translation>сертификату нет доверия: «{reason}»</translation>
    </message>
    <message>
        <source>TLS failed: “{reason}”</source>
        <translation>ошибка TLS: «{reason}»</translation>
    </message>
    <message>
        <source>connection refused</source>
        <translation>в соединении отказано</translation>
    </message>
    <message>
        <source>the server closed the connection</source>
        <translation>сервер закрыл соединение</translation>
    </message>
    <message>
        <source>proxy: {reason}</source>
        <translation>прокси: {reason}</translation>
    </message>
    <message>
        <source>no result within {seconds} s</source>
        <translation>нет результата за {seconds} с</translation>
    </message>
    <message>
        <source>No clean answer to the goodbye ({error}); closing anyway.</source>
        <translation>Нет чистого ответа на завершение сеанса ({error}); всё равно закрываем.</translation>
    </message>
    <message>
        <source>Looking for {token} in {folders}.</source>
        <translation>Ищем {token} в папках: {folders}.</translation>
    </message>
    <message>
        <source>The server has no UIDPLUS: the test message is kept.</source>
        <translation>Сервер не поддерживает UIDPLUS: тестовое письмо остаётся в ящике.</translation>
    </message>
    <message>
        <source>The server sent a plaintext greeting before the TLS handshake.</source>
        <translation>Сервер прислал открытое приветствие до установки TLS.</translation>
    </message>
    <message>
        <source>The certificate matches the pinned SHA-256 fingerprint.</source>
        <translation>Сертификат совпадает с сохранённым отпечатком SHA-256.</translation>
    </message>
    <message>
        <source>Certificate verification is turned off.</source>
        <translation>Проверка сертификата выключена.</translation>
    </message>
    <message>
        <source>TLS {protocol}, {cipher}; certificate {subject}.</source>
        <translation>TLS {protocol}, {cipher}; сертификат {subject}.</translation>
    </message>
    <message>
        <source>{host} resolves to {addresses}.</source>
        <translation>{host} — это адреса {addresses}.</translation>
    </message>
    <message>
        <source>Connected to {host}:{port} through the proxy.</source>
        <translation>Подключились к {host}:{port} через прокси.</translation>
    </message>
    <message>
        <source>no answer</source>
        <translation>нет ответа</translation>
    </message>
    <message>
        <source>Connecting to {address} failed: {reason}.</source>
        <translation>Не удалось подключиться к {address}: {reason}.</translation>
    </message>
    <message>
        <source>{address} did not answer first ({error}); another address did.</source>
        <translation>{address} ответил не первым ({error}); ответил другой адрес.</translation>
    </message>
    <message>
        <source>Connected to {address}.</source>
        <translation>Подключились к {address}.</translation>
    </message>
    <message>
        <source>No greeting yet: checking whether the port expects SSL/TLS.</source>
        <translation>Приветствия пока нет: проверяем, не ждёт ли порт SSL/TLS.</translation>
    </message>
    <message>
        <source>Envelope: from {sender} to {recipients}.</source>
        <translation>Конверт: от {sender} для {recipients}.</translation>
    </message>
    <message>
        <source>The message has 8-bit content but the server does not announce 8BITMIME.</source>
        <translation>В письме есть 8-битное содержимое, а сервер не объявляет 8BITMIME.</translation>
    </message>
    <message>
        <source>Recipient {address} refused: “{reply}”</source>
        <translation>Получатель {address} отклонён: «{reply}»</translation>
    </message>
    <message>
        <source>Uploaded {bytes} bytes in {seconds} s.</source>
        <translation>Передано {bytes} байт за {seconds} с.</translation>
    </message>
    <message>
        <source>Server capabilities: {caps}</source>
        <translation>Возможности сервера: {caps}</translation>
    </message>
    <message>
        <source>The server rejected EHLO; falling back to HELO.</source>
        <translation>Сервер отклонил EHLO; переходим на HELO.</translation>
    </message>
    <message>
        <source>Logging in as {user} with {mechanism}.</source>
        <translation>Входим как {user} через {mechanism}.</translation>
    </message>
    <message>
        <source>No clean answer to QUIT ({error}); closing anyway.</source>
        <translation>Нет чистого ответа на QUIT ({error}); всё равно закрываем.</translation>
    </message>
</context>
<context>
    <name>LogView</name>
    <message>
        <source>Log &amp;detail:</source>
        <translation>Детализация &amp;журнала:</translation>
    </message>
    <message>
        <source>Normal</source>
        <translation>Обычная</translation>
    </message>
    <message>
        <source>Detailed</source>
        <translation>Подробная</translation>
    </message>
    <message>
        <source>Protocol transcript</source>
        <translation>Протокол обмена</translation>
    </message>
    <message>
        <source>Log detail</source>
        <translation>Детализация журнала</translation>
    </message>
    <message>
        <source>Connection log</source>
        <translation>Журнал подключения</translation>
    </message>
    <message>
        <source>Cop&amp;y log</source>
        <translation>&amp;Копировать журнал</translation>
    </message>
    <message>
        <source>Sa&amp;ve log…</source>
        <translation>Со&amp;хранить журнал…</translation>
    </message>
    <message>
        <source>{stage}: cancelled after {ms} ms.</source>
        <translation>{stage}: отменено через {ms} мс.</translation>
    </message>
    <message>
        <source>{stage}: did not work ({title}), after {ms} ms.</source>
        <translation>{stage}: не получилось ({title}), через {ms} мс.</translation>
    </message>
    <message>
        <source>Save log</source>
        <translation>Сохранить журнал</translation>
    </message>
    <message>
        <source>Text files (*.txt);;All files (*)</source>
        <translation>Текстовые файлы (*.txt);;Все файлы (*)</translation>
    </message>
    <message>
        <source>Could not save the log: {error}</source>
        <translation>Не удалось сохранить журнал: {error}</translation>
    </message>
</context>
<context>
    <name>OAuthSignInBox</name>
    <message>
        <source>Sign in with {provider}…</source>
        <translation>Войти через {provider}…</translation>
    </message>
    <message>
        <source>Signed in as {user}: no password needed.</source>
        <translation>Вход выполнен как {user}: пароль не нужен.</translation>
    </message>
    <message>
        <source>{provider} can sign in with OAuth 2.0 instead of a password.</source>
        <translation>{provider} позволяет войти через OAuth 2.0 вместо пароля.</translation>
    </message>
    <message>
        <source>The provider gave no lasting sign-in (no refresh token); sign in again.</source>
        <translation>Провайдер не выдал долговременный вход (нет токена обновления); войдите заново.</translation>
    </message>
</context>
<context>
    <name>OAuthSignInDialog</name>
    <message>
        <source>Sign in with {provider}</source>
        <translation>Вход через {provider}</translation>
    </message>
    <message>
        <source>MailSetup signs in with your organisation's own app registration at {provider}: enter its client id. The sign-in is kept in the system keyring, never in a file.</source>
        <translation>MailSetup входит через собственную регистрацию приложения вашей организации в {provider}: введите её идентификатор клиента. Вход хранится в системной связке ключей и никогда — в файле.</translation>
    </message>
    <message>
        <source>&amp;Mailbox:</source>
        <translation>&amp;Ящик:</translation>
    </message>
    <message>
        <source>Client &amp;ID:</source>
        <translation>&amp;Идентификатор клиента:</translation>
    </message>
    <message>
        <source>&amp;Tenant:</source>
        <translation>&amp;Каталог (tenant):</translation>
    </message>
    <message>
        <source>Client &amp;secret:</source>
        <translation>&amp;Секрет клиента:</translation>
    </message>
    <message>
        <source>Sign &amp;in with {provider}</source>
        <translation>&amp;Войти через {provider}</translation>
    </message>
    <message>
        <source>&amp;Cancel sign-in</source>
        <translation>&amp;Отменить вход</translation>
    </message>
    <message>
        <source>No client id yet? Register your own app:</source>
        <translation>Ещё нет идентификатора клиента? Зарегистрируйте своё приложение:</translation>
    </message>
    <message>
        <source>Cannot sign in yet: {problem}</source>
        <translation>Пока нельзя войти: {problem}</translation>
    </message>
    <message>
        <source>Opening the browser…</source>
        <translation>Открывается браузер…</translation>
    </message>
    <message>
        <source>Finish the sign-in in the browser window that opened, then come back here. If no window opened, open this address: {url}</source>
        <translation>Завершите вход в открывшемся окне браузера и вернитесь сюда. Если окно не открылось, откройте этот адрес: {url}</translation>
    </message>
    <message>
        <source>Signed in.</source>
        <translation>Вход выполнен.</translation>
    </message>
    <message>
        <source>The sign-in did not succeed.</source>
        <translation>Войти не удалось.</translation>
    </message>
    <message>
        <source>The sign-in stopped: {error}</source>
        <translation>Вход прерван: {error}</translation>
    </message>
    <message>
        <source>Sign-in cancelled. You can start it again at any time.</source>
        <translation>Вход отменён. Его можно начать заново в любой момент.</translation>
    </message>
</context>
<context>
    <name>ProbeTable</name>
    <message>
        <source>trying</source>
        <translation>проверяется</translation>
    </message>
    <message>
        <source>answers</source>
        <translation>отвечает</translation>
    </message>
    <message>
        <source>no</source>
        <translation>нет</translation>
    </message>
    <message>
        <source>not needed</source>
        <translation>не требуется</translation>
    </message>
    <message>
        <source>skipped</source>
        <translation>пропущено</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>Сервер</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Порт</translation>
    </message>
    <message>
        <source>Security</source>
        <translation>Шифрование</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Состояние</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>мс</translation>
    </message>
    <message>
        <source>Servers tried</source>
        <translation>Проверенные серверы</translation>
    </message>
</context>
<context>
    <name>ProviderDetection</name>
    <message>
        <source>Type your e-mail address first.</source>
        <translation>Сначала введите адрес электронной почты.</translation>
    </message>
    <message>
        <source>Trying the usual servers and ports…</source>
        <translation>Проверка типичных серверов и портов…</translation>
    </message>
    <message>
        <source>Search cancelled.</source>
        <translation>Поиск отменён.</translation>
    </message>
    <message>
        <source>Found: {host}, port {port}, {security}, in {ms} ms. Press Next to use it.</source>
        <translation>Найдено: {host}, порт {port}, {security}, за {ms} мс. Нажмите «Далее», чтобы использовать эти настройки.</translation>
    </message>
    <message>
        <source>No working server found. {reason} Choose Custom server and type the server's name.</source>
        <translation>Рабочий сервер не найден. {reason} Выберите «Свой сервер» и введите имя сервера.</translation>
    </message>
    <message>
        <source>The search stopped with an error: {error}</source>
        <translation>Поиск прерван из-за ошибки: {error}</translation>
    </message>
</context>
<context>
    <name>ProviderExtras</name>
    <message>
        <source>personal mail</source>
        <translation>личная почта</translation>
    </message>
    <message>
        <source>business mail</source>
        <translation>почта для бизнеса</translation>
    </message>
    <message>
        <source>sending service for apps</source>
        <translation>сервис отправки для приложений</translation>
    </message>
    <message>
        <source>Search providers…</source>
        <translation>Поиск провайдера…</translation>
    </message>
    <message>
        <source>Search providers</source>
        <translation>Поиск провайдера</translation>
    </message>
    <message>
        <source>Region of the provider's servers</source>
        <translation>Регион серверов провайдера</translation>
    </message>
    <message>
        <source>The servers depend on where the account lives.</source>
        <translation>Серверы зависят от того, где создан аккаунт.</translation>
    </message>
</context>
<context>
    <name>ProviderPage</name>
    <message>
        <source>Custom server (type host and port)</source>
        <translation>Свой сервер (укажите хост и порт)</translation>
    </message>
    <message>
        <source>Local sandbox (test server on this computer)</source>
        <translation>Локальная песочница (тестовый сервер на этом компьютере)</translation>
    </message>
    <message>
        <source>This domain's mail is handled by {name}.</source>
        <translation>Почту этого домена обслуживает {name}.</translation>
    </message>
    <message>
        <source>Recognised: {name}.</source>
        <translation>Распознано: {name}.</translation>
    </message>
    <message>
        <source>Unknown domain: Custom server is selected. Type your server's settings on the next pages, or find them automatically.</source>
        <translation>Домен неизвестен: выбран «Свой сервер». Введите настройки сервера на следующих страницах или найдите их автоматически.</translation>
    </message>
    <message>
        <source>Unknown domain: choose Custom server or find the settings automatically.</source>
        <translation>Неизвестный домен: выберите «Свой сервер» или определите настройки автоматически.</translation>
    </message>
    <message>
        <source>Who provides your mailbox?</source>
        <translation>Где находится ваш почтовый ящик?</translation>
    </message>
    <message>
        <source>Type your address; we recognise the provider. Or pick it from the list.</source>
        <translation>Введите адрес — провайдер определится автоматически. Или выберите его из списка.</translation>
    </message>
    <message>
        <source>Your &amp;e-mail address:</source>
        <translation>&amp;Ваш адрес электронной почты:</translation>
    </message>
    <message>
        <source>name@example.com</source>
        <translation>name@example.com</translation>
    </message>
    <message>
        <source>E-mail address</source>
        <translation>Адрес электронной почты</translation>
    </message>
    <message>
        <source>&amp;Provider:</source>
        <translation>&amp;Провайдер:</translation>
    </message>
    <message>
        <source>Provider</source>
        <translation>Провайдер</translation>
    </message>
    <message>
        <source>&amp;Find my settings automatically</source>
        <translation>&amp;Определить настройки автоматически</translation>
    </message>
    <message>
        <source>Find my settings automatically</source>
        <translation>Определить настройки автоматически</translation>
    </message>
    <message>
        <source>Stop searc&amp;h</source>
        <translation>Ос&amp;тановить поиск</translation>
    </message>
    <message>
        <source>&amp;Saved accounts…</source>
        <translation>&amp;Учётные записи…</translation>
    </message>
</context>
<context>
    <name>ReportButton</name>
    <message>
        <source>Sav&amp;e report…</source>
        <translation>Сох&amp;ранить отчёт…</translation>
    </message>
    <message>
        <source>Save everything a support engineer needs about this run (never a password) as one file.</source>
        <translation>Сохранить в один файл всё, что нужно службе поддержки об этой проверке (пароль — никогда).</translation>
    </message>
    <message>
        <source>Hide addresses</source>
        <translation>Скрыть адреса</translation>
    </message>
    <message>
        <source>Replace the login, sender and recipient addresses in the report with masks.</source>
        <translation>Заменить в отчёте логин, адреса отправителя и получателей масками.</translation>
    </message>
    <message>
        <source>Web page (*.html)</source>
        <translation>Веб-страница (*.html)</translation>
    </message>
    <message>
        <source>Plain text (*.txt)</source>
        <translation>Простой текст (*.txt)</translation>
    </message>
    <message>
        <source>Save report</source>
        <translation>Сохранение отчёта</translation>
    </message>
    <message>
        <source>The report was not saved: {reason}</source>
        <translation>Отчёт не сохранён: {reason}</translation>
    </message>
    <message>
        <source>Report saved to {path}.</source>
        <translation>Отчёт сохранён в {path}.</translation>
    </message>
</context>
<context>
    <name>SandboxInboxDialog</name>
    <message>
        <source>Sandbox inbox</source>
        <translation>Входящие песочницы</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Получено</translation>
    </message>
    <message>
        <source>From</source>
        <translation>От</translation>
    </message>
    <message>
        <source>To</source>
        <translation>Кому</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Тема</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Размер</translation>
    </message>
    <message>
        <source>Attachments</source>
        <translation>Вложения</translation>
    </message>
    <message>
        <source>Clear list</source>
        <translation>Очистить список</translation>
    </message>
    <message>
        <source>The sandbox server is not running.</source>
        <translation>Сервер песочницы не запущен.</translation>
    </message>
    <message>
        <source>Local test server {host}: port {ssl} (SSL/TLS) and {starttls} (STARTTLS), login {user}, password {password}. Messages sent to it are shown here and delivered nowhere.</source>
        <translation>Локальный тестовый сервер {host}: порты {ssl} (SSL/TLS) и {starttls} (STARTTLS), логин {user}, пароль {password}. Отправленные на него письма показываются здесь и никуда не доставляются.</translation>
    </message>
    <message>
        <source>(no subject)</source>
        <translation>(без темы)</translation>
    </message>
    <message>
        <source>Select a message to read it.</source>
        <translation>Выберите письмо, чтобы прочитать его.</translation>
    </message>
    <message>
        <source>Envelope sender</source>
        <translation>Отправитель конверта</translation>
    </message>
    <message>
        <source>Envelope recipients</source>
        <translation>Получатели конверта</translation>
    </message>
    <message>
        <source>(no text part)</source>
        <translation>(нет текстовой части)</translation>
    </message>
    <message>
        <source>Attachments:</source>
        <translation>Вложения:</translation>
    </message>
</context>
<context>
    <name>SaveExports</name>
    <message>
        <source>{format} copied to the clipboard, with the password: clear the clipboard when done.</source>
        <translation>{format} скопирован в буфер обмена вместе с паролем: очистите буфер, когда закончите.</translation>
    </message>
    <message>
        <source>{format} copied to the clipboard.</source>
        <translation>Фрагмент {format} скопирован в буфер обмена.</translation>
    </message>
    <message>
        <source>Saved to {path} (readable only by you).</source>
        <translation>Сохранено в {path} (доступно для чтения только вам).</translation>
    </message>
    <message>
        <source>Save export</source>
        <translation>Сохранить экспорт</translation>
    </message>
    <message>
        <source>Could not write the file: {error}</source>
        <translation>Не удалось записать файл: {error}</translation>
    </message>
</context>
<context>
    <name>SavePage</name>
    <message>
        <source>The password goes to the system password store: {backend}.</source>
        <translation>Пароль будет сохранён в системном хранилище паролей: {backend}.</translation>
    </message>
    <message>
        <source>The password cannot be stored on this computer ({title}). You can save without the password.</source>
        <translation>Сохранить пароль на этом компьютере нельзя ({title}). Можно сохранить учётную запись без пароля.</translation>
    </message>
    <message>
        <source>Looking for the system password store…</source>
        <translation>Поиск системного хранилища паролей…</translation>
    </message>
    <message>
        <source>Server {server}. The settings (never the password) are saved to {path}.</source>
        <translation>Сервер {server}. Настройки сохраняются в {path} (пароль туда никогда не записывается).</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>Сохранение…</translation>
    </message>
    <message>
        <source>Saved “{name}”; the sign-in is in the system password store.</source>
        <translation>«{name}» сохранён; вход хранится в системном хранилище паролей.</translation>
    </message>
    <message>
        <source>Replace saved account</source>
        <translation>Заменить сохранённую учётную запись</translation>
    </message>
    <message>
        <source>A saved account called “{name}” already exists. Replace it with these settings? Its stored passwords are replaced or removed.</source>
        <translation>Сохранённая учётная запись «{name}» уже существует. Заменить её этими настройками? Её сохранённые пароли будут заменены или удалены.</translation>
    </message>
    <message>
        <source>Saved “{name}”; the password is in {backend}.</source>
        <translation>Профиль «{name}» сохранён; пароль хранится в {backend}.</translation>
    </message>
    <message>
        <source>Saved “{name}” without the password; you will be asked for it when needed.</source>
        <translation>Профиль «{name}» сохранён без пароля; пароль будет запрошен, когда понадобится.</translation>
    </message>
    <message>
        <source>Not saved: “{name}” was kept as it was.</source>
        <translation>Не сохранено: «{name}» осталась без изменений.</translation>
    </message>
    <message>
        <source>The password could not be stored; nothing was saved yet.</source>
        <translation>Не удалось сохранить пароль; пока ничего не сохранено.</translation>
    </message>
    <message>
        <source>Could not save: {error}</source>
        <translation>Не удалось сохранить: {error}</translation>
    </message>
    <message>
        <source>Save the account</source>
        <translation>Сохранение учётной записи</translation>
    </message>
    <message>
        <source>Keep these settings for later and copy them into your application.</source>
        <translation>Сохраните настройки на будущее и скопируйте их в своё приложение.</translation>
    </message>
    <message>
        <source>&amp;Profile name:</source>
        <translation>&amp;Имя профиля:</translation>
    </message>
    <message>
        <source>Profile name</source>
        <translation>Имя профиля</translation>
    </message>
    <message>
        <source>&amp;Store the password in the system password store</source>
        <translation>&amp;Сохранить пароль в системном хранилище паролей</translation>
    </message>
    <message>
        <source>Sa&amp;ve profile</source>
        <translation>Сохранить &amp;профиль</translation>
    </message>
    <message>
        <source>Save &amp;without the password</source>
        <translation>Сохранить &amp;без пароля</translation>
    </message>
    <message>
        <source>Export for your application</source>
        <translation>Экспорт для вашего приложения</translation>
    </message>
    <message>
        <source>&amp;Include the password in the export</source>
        <translation>&amp;Включить пароль в экспорт</translation>
    </message>
    <message>
        <source>The password will be in plain text in the copied or saved text. Anyone who reads it can send mail as you.</source>
        <translation>В скопированном или сохранённом тексте пароль будет в открытом виде. Любой, кто его прочтёт, сможет отправлять почту от вашего имени.</translation>
    </message>
    <message>
        <source>Export preview</source>
        <translation>Предпросмотр экспорта</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>&amp;Копировать</translation>
    </message>
    <message>
        <source>Save to fil&amp;e…</source>
        <translation>Сохранить в &amp;файл…</translation>
    </message>
</context>
<context>
    <name>SavedAccountsDialog</name>
    <message>
        <source>No saved accounts yet.</source>
        <translation>Сохранённых учётных записей пока нет.</translation>
    </message>
    <message>
        <source>Skipped (kept in the file as it is): {problems}</source>
        <translation>Пропущено (оставлено в файле как есть): {problems}</translation>
    </message>
    <message>
        <source>password stored</source>
        <translation>пароль сохранён</translation>
    </message>
    <message>
        <source>signs in with OAuth</source>
        <translation>вход через OAuth</translation>
    </message>
    <message>
        <source>no password stored</source>
        <translation>пароль не сохранён</translation>
    </message>
    <message>
        <source>no login</source>
        <translation>без входа</translation>
    </message>
    <message>
        <source>Testing “{name}”…</source>
        <translation>Проверка «{name}»…</translation>
    </message>
    <message>
        <source>Password needed</source>
        <translation>Нужен пароль</translation>
    </message>
    <message>
        <source>No password is stored for “{name}”. Password for {user} (used for this test only):</source>
        <translation>Для «{name}» пароль не сохранён. Пароль для {user} (только для этой проверки):</translation>
    </message>
    <message>
        <source>Not tested: the proxy password of “{name}” is no longer stored. Edit the account.</source>
        <translation>Не проверено: пароль прокси для «{name}» больше не сохранён. Измените учётную запись.</translation>
    </message>
    <message>
        <source>Not tested: “{name}” has no stored password, and none was typed.</source>
        <translation>Не проверено: для «{name}» нет сохранённого пароля, а пароль не был введён.</translation>
    </message>
    <message>
        <source>“{name}” works ({ms} ms).</source>
        <translation>Учётная запись «{name}» работает ({ms} мс).</translation>
    </message>
    <message>
        <source>“{name}” failed: {title} {explanation}</source>
        <translation>Учётная запись «{name}» не прошла проверку: {title} {explanation}</translation>
    </message>
    <message>
        <source>Delete account</source>
        <translation>Удаление учётной записи</translation>
    </message>
    <message>
        <source>Delete the saved account “{name}” and its stored password?</source>
        <translation>Удалить сохранённую учётную запись «{name}» и её пароль из хранилища?</translation>
    </message>
    <message>
        <source>Deleted “{name}”.</source>
        <translation>Учётная запись «{name}» удалена.</translation>
    </message>
    <message>
        <source>Saved accounts</source>
        <translation>Сохранённые учётные записи</translation>
    </message>
    <message>
        <source>&amp;Accounts:</source>
        <translation>&amp;Список учётных записей:</translation>
    </message>
    <message>
        <source>&amp;Test again</source>
        <translation>&amp;Проверить снова</translation>
    </message>
    <message>
        <source>&amp;Edit…</source>
        <translation>&amp;Изменить…</translation>
    </message>
    <message>
        <source>&amp;Delete…</source>
        <translation>&amp;Удалить…</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Закрыть</translation>
    </message>
</context>
<context>
    <name>Secrets</name>
    <message>
        <source>Secret Service (GNOME Keyring or compatible)</source>
        <translation>Secret Service (GNOME Keyring или совместимое хранилище)</translation>
    </message>
    <message>
        <source>Secret Service via libsecret (GNOME Keyring or compatible)</source>
        <translation>Secret Service через libsecret (GNOME Keyring или совместимое хранилище)</translation>
    </message>
    <message>
        <source>KDE Wallet</source>
        <translation>Бумажник KDE (KDE Wallet)</translation>
    </message>
    <message>
        <source>macOS Keychain</source>
        <translation>Связка ключей macOS</translation>
    </message>
    <message>
        <source>Windows Credential Locker</source>
        <translation>Диспетчер учётных данных Windows</translation>
    </message>
    <message>
        <source>Install and start a Secret Service password store: GNOME Keyring (package 'gnome-keyring') or KDE Wallet (package 'kwalletmanager'), or enable KeePassXC's Secret Service integration, and run MailSetup inside your desktop session.</source>
        <translation>Установите и запустите хранилище паролей с поддержкой Secret Service: GNOME Keyring (пакет gnome-keyring) или KDE Wallet (пакет kwalletmanager), либо включите интеграцию с Secret Service в KeePassXC. Запускайте MailSetup в своём графическом сеансе.</translation>
    </message>
    <message>
        <source>The macOS Keychain should always be available; log in to a normal user session and try again.</source>
        <translation>Связка ключей macOS должна быть доступна всегда; войдите в обычный сеанс пользователя и повторите попытку.</translation>
    </message>
    <message>
        <source>The Windows Credential Locker should always be available; log in to a normal user session.</source>
        <translation>Хранилище учётных данных Windows (Credential Locker) должно быть доступно всегда; войдите в обычный сеанс пользователя.</translation>
    </message>
    <message>
        <source>Install a password store supported by the Python 'keyring' package.</source>
        <translation>Установите хранилище паролей, которое поддерживает Python-пакет keyring.</translation>
    </message>
    <message>
        <source>You can save the account without the password; MailSetup will then ask for it each time it tests the account.</source>
        <translation>Учётную запись можно сохранить без пароля — тогда MailSetup будет запрашивать его при каждой проверке.</translation>
    </message>
    <message>
        <source>No password store available</source>
        <translation>Нет доступного хранилища паролей</translation>
    </message>
    <message>
        <source>MailSetup keeps passwords only in the system password store, and none was found on this computer. </source>
        <translation>MailSetup хранит пароли только в системном хранилище паролей, а на этом компьютере оно не найдено. </translation>
    </message>
    <message>
        <source>Password store is not secure</source>
        <translation>Хранилище паролей небезопасно</translation>
    </message>
    <message>
        <source>The configured password store ({name}) keeps passwords in a file on disk, not in a protected system store, so MailSetup will not use it. </source>
        <translation>Настроенное хранилище паролей ({name}) хранит пароли в файле на диске, а не в защищённом системном хранилище, поэтому MailSetup не будет его использовать. </translation>
    </message>
    <message>
        <source>Password store could not be started</source>
        <translation>Не удалось запустить хранилище паролей</translation>
    </message>
    <message>
        <source>The password store {name} could not be started: {reason}. </source>
        <translation>Не удалось запустить хранилище паролей {name}: {reason}. </translation>
    </message>
    <message>
        <source>Password store does not respond</source>
        <translation>Хранилище паролей не отвечает</translation>
    </message>
    <message>
        <source>The system password store did not answer within {seconds:g} seconds. It may be waiting for an unlock window that is hidden or cannot be shown, or the service is stuck. Unlock or restart it (on Linux: gnome-keyring-daemon or KWallet) and try again. </source>
        <translation>Системное хранилище паролей не ответило за {seconds:g} с. Возможно, оно ждёт разблокировки в окне, которое скрыто или не может быть показано, или служба зависла. Разблокируйте или перезапустите его (в Linux — gnome-keyring-daemon или KWallet) и повторите попытку. </translation>
    </message>
    <message>
        <source>Stored password is in another password store</source>
        <translation>Сохранённый пароль находится в другом хранилище паролей</translation>
    </message>
    <message>
        <source>The password was stored in {stored}, which cannot be opened now (the password store in use is {current}). Start or unlock that store, or save the account again to keep the password in the store in use now.</source>
        <translation>Пароль был сохранён в хранилище {stored}, которое сейчас недоступно (используется хранилище {current}). Запустите или разблокируйте то хранилище либо сохраните учётную запись заново, чтобы пароль хранился в используемом сейчас хранилище.</translation>
    </message>
    <message>
        <source>opening the store for</source>
        <translation>открытии хранилища для</translation>
    </message>
    <message>
        <source>reading</source>
        <translation>чтении</translation>
    </message>
    <message>
        <source>saving</source>
        <translation>сохранении</translation>
    </message>
    <message>
        <source>deleting</source>
        <translation>удалении</translation>
    </message>
    <message>
        <source>Password store is locked</source>
        <translation>Хранилище паролей заблокировано</translation>
    </message>
    <message>
        <source>The system password store is locked and was not unlocked (the unlock window was closed or could not be shown). Unlock it (for example by logging in to your desktop, or in Passwords and Keys / KWallet Manager / Keychain Access) and try again. </source>
        <translation>Системное хранилище паролей заблокировано и не было разблокировано (окно разблокировки закрыто или не может быть показано). Разблокируйте его (например, войдя в графический сеанс или в программе «Пароли и ключи» / KWallet Manager / «Связка ключей») и повторите попытку. </translation>
    </message>
    <message>
        <source>The system password store could not be opened: {reason}. </source>
        <translation>Не удалось открыть системное хранилище паролей: {reason}. </translation>
    </message>
    <message>
        <source>Password store error</source>
        <translation>Ошибка хранилища паролей</translation>
    </message>
    <message>
        <source>The system password store reported an error while {what} the password: {reason}.</source>
        <translation>Системное хранилище паролей сообщило об ошибке при {what} пароля: {reason}.</translation>
    </message>
</context>
<context>
    <name>SendPage</name>
    <message>
        <source>MailSetup test message</source>
        <translation>Тестовое письмо MailSetup</translation>
    </message>
    <message>
        <source>Hello!

This is a test message sent by MailSetup through {server}.
If you can read it, sending mail works. You can delete this message.
</source>
        <translation>Здравствуйте!

Это тестовое письмо, отправленное MailSetup через {server}.
Если вы его читаете, отправка почты работает. Это письмо можно удалить.
</translation>
    </message>
    <message>
        <source>Attach files</source>
        <translation>Прикрепить файлы</translation>
    </message>
    <message>
        <source>Check the addresses: {problem}. Separate several with ; or ,</source>
        <translation>Проверьте адреса: {problem}. Несколько адресов разделяйте знаком ; или ,</translation>
    </message>
    <message>
        <source>Enter at least one recipient.</source>
        <translation>Укажите хотя бы одного получателя.</translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation>Отправка…</translation>
    </message>
    <message>
        <source>Sending cancelled.</source>
        <translation>Отправка отменена.</translation>
    </message>
    <message>
        <source>The message was not sent.</source>
        <translation>Письмо не отправлено.</translation>
    </message>
    <message>
        <source>Sent in {ms} ms. The server answered: “{reply}”.</source>
        <translation>Отправлено за {ms} мс. Ответ сервера: «{reply}».</translation>
    </message>
    <message>
        <source>Queue id: {id}.</source>
        <translation>Идентификатор в очереди: {id}.</translation>
    </message>
    <message>
        <source>It is in the sandbox inbox on this computer: open it with the button below.</source>
        <translation>Письмо во входящих песочницы на этом компьютере: откройте их кнопкой ниже.</translation>
    </message>
    <message>
        <source>Look in the recipient's Inbox — and in Spam, where first test messages often land.</source>
        <translation>Проверьте папку «Входящие» получателя, а также «Спам»: первые тестовые письма часто попадают туда.</translation>
    </message>
    <message>
        <source>Refused recipients: {list}</source>
        <translation>Отклонённые получатели: {list}</translation>
    </message>
    <message>
        <source>Sending stopped with an internal error: {error}</source>
        <translation>Отправка прервана из-за внутренней ошибки: {error}</translation>
    </message>
    <message>
        <source>Send a test message</source>
        <translation>Отправка тестового письма</translation>
    </message>
    <message>
        <source>Optional: send a real message to see it arrive. You can skip to Save.</source>
        <translation>Необязательный шаг: отправьте настоящее письмо и убедитесь, что оно дошло. Можно сразу перейти к сохранению.</translation>
    </message>
    <message>
        <source>T&amp;o:</source>
        <translation>Ко&amp;му:</translation>
    </message>
    <message>
        <source>&amp;Cc:</source>
        <translation>Ко&amp;пия:</translation>
    </message>
    <message>
        <source>Bcc (h&amp;idden):</source>
        <translation>&amp;Скрытая копия:</translation>
    </message>
    <message>
        <source>S&amp;ubject:</source>
        <translation>&amp;Тема:</translation>
    </message>
    <message>
        <source>Mess&amp;age:</source>
        <translation>Т&amp;екст письма:</translation>
    </message>
    <message>
        <source>Attach&amp;ments:</source>
        <translation>&amp;Вложения:</translation>
    </message>
    <message>
        <source>Several addresses: separate with ; or ,</source>
        <translation>Несколько адресов: через ; или ,</translation>
    </message>
    <message>
        <source>Send as &amp;HTML</source>
        <translation>Отпр&amp;авить как HTML</translation>
    </message>
    <message>
        <source>Add &amp;files…</source>
        <translation>Добавить &amp;файлы…</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>&amp;Удалить</translation>
    </message>
    <message>
        <source>&amp;Send test message</source>
        <translation>&amp;Отправить письмо</translation>
    </message>
    <message>
        <source>Cancel sendin&amp;g</source>
        <translation>Отмен&amp;ить отправку</translation>
    </message>
    <message>
        <source>O&amp;pen the sandbox inbox</source>
        <translation>О&amp;ткрыть входящие песочницы</translation>
    </message>
</context>
<context>
    <name>SetupWizard</name>
    <message>
        <source>Set up a mailbox</source>
        <translation>Настройка почтового ящика</translation>
    </message>
    <message>
        <source>&amp;Next &gt;</source>
        <translation>&amp;Далее &gt;</translation>
    </message>
    <message>
        <source>&lt; &amp;Back</source>
        <translation>&lt; &amp;Назад</translation>
    </message>
    <message>
        <source>&amp;Finish</source>
        <translation>&amp;Готово</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Отмена</translation>
    </message>
    <message>
        <source>Close without saving?</source>
        <translation>Закрыть без сохранения?</translation>
    </message>
    <message>
        <source>The account is not saved. Close the wizard and lose what you typed?</source>
        <translation>Учётная запись не сохранена. Закрыть мастер и потерять введённое?</translation>
    </message>
    <message>
        <source>&amp;Close without saving</source>
        <translation>&amp;Закрыть без сохранения</translation>
    </message>
    <message>
        <source>&amp;Stay</source>
        <translation>&amp;Остаться</translation>
    </message>
</context>
<context>
    <name>StageList</name>
    <message>
        <source>waiting</source>
        <translation>ожидание</translation>
    </message>
    <message>
        <source>running…</source>
        <translation>выполняется…</translation>
    </message>
    <message>
        <source>done</source>
        <translation>готово</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>ошибка</translation>
    </message>
    <message>
        <source>not needed</source>
        <translation>не требуется</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>отменено</translation>
    </message>
    <message>
        <source>{ms} ms</source>
        <translation>{ms} мс</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>Этап</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Состояние</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Время</translation>
    </message>
    <message>
        <source>Check steps</source>
        <translation>Этапы проверки</translation>
    </message>
</context>
<context>
    <name>Stages</name>
    <message>
        <source>Find the server (DNS)</source>
        <translation>Поиск сервера (DNS)</translation>
    </message>
    <message>
        <source>Connect</source>
        <translation>Подключение</translation>
    </message>
    <message>
        <source>Encrypt (TLS)</source>
        <translation>Шифрование (TLS)</translation>
    </message>
    <message>
        <source>Server greeting</source>
        <translation>Приветствие сервера</translation>
    </message>
    <message>
        <source>Introduce (EHLO)</source>
        <translation>Представление (EHLO)</translation>
    </message>
    <message>
        <source>Switch to encryption (STARTTLS)</source>
        <translation>Переход к шифрованию (STARTTLS)</translation>
    </message>
    <message>
        <source>Log in</source>
        <translation>Вход</translation>
    </message>
    <message>
        <source>Sender (MAIL FROM)</source>
        <translation>Отправитель (MAIL FROM)</translation>
    </message>
    <message>
        <source>Recipients (RCPT TO)</source>
        <translation>Получатели (RCPT TO)</translation>
    </message>
    <message>
        <source>Message (DATA)</source>
        <translation>Письмо (DATA)</translation>
    </message>
    <message>
        <source>Say goodbye (QUIT)</source>
        <translation>Завершение (QUIT)</translation>
    </message>
</context>
<context>
    <name>_EngineBox</name>
    <message>
        <source>Cancelled.</source>
        <translation>Отменено.</translation>
    </message>
    <message>
        <source>Stopped with an internal error: {error}</source>
        <translation>Остановлено из-за внутренней ошибки: {error}</translation>
    </message>
</context>
<context>
    <name>_SideBar</name>
    <message>
        <source>Provider</source>
        <translation>Провайдер</translation>
    </message>
    <message>
        <source>App password</source>
        <translation>Пароль приложения</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Учётная запись</translation>
    </message>
    <message>
        <source>Connection check</source>
        <translation>Проверка подключения</translation>
    </message>
    <message>
        <source>Test message</source>
        <translation>Тестовое письмо</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Сохранение</translation>
    </message>
    <message>
        <source>Decode a reply…</source>
        <translation>Разбор ответа…</translation>
    </message>
    <message>
        <source>Explain an SMTP reply or a bounce message</source>
        <translation>Объяснить ответ SMTP-сервера или отчёт о недоставке</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>&amp;Язык:</translation>
    </message>
    <message>
        <source>Interface language</source>
        <translation>Язык интерфейса</translation>
    </message>
</context>
</TS>