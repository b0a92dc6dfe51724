"""DDL of a fresh Postfix Admin 4.0 database (schema version 1851), one list per engine.

Written from the schema description in the project's reference (tables, columns, types, defaults,
keys and indexes as Postfix Admin's upgrade steps leave them); the comparison test checks it
against a database built by Postfix Admin's own upgrade.php.

MySQL/MariaDB deviates on purpose in one way: tables are utf8mb4 with the case-insensitive
utf8mb4_unicode_ci collation instead of latin1_general_ci. Address columns stay case-insensitive,
as Postfix lookups expect, but a recipient with non-ASCII characters no longer makes the Postfix
lookup fail with "Illegal mix of collations" (a temporary error that defers mail), and names in
any script are stored as typed.
"""

FRESH_VERSION = 1851

_MYSQL_TABLE = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
_MYSQL_DT = "datetime NOT NULL DEFAULT '2000-01-01 00:00:00'"
_MYSQL_TS = "timestamp NOT NULL DEFAULT '2000-01-01 00:00:00'"

MYSQL = [
    f"""CREATE TABLE `config` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(20) NOT NULL DEFAULT '',
  `value` varchar(20) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`)
) {_MYSQL_TABLE} COMMENT='PostfixAdmin settings'""",
    f"""CREATE TABLE `admin` (
  `username` varchar(255) NOT NULL,
  `password` varchar(255) NOT NULL,
  `superadmin` tinyint(1) NOT NULL DEFAULT 0,
  `created` {_MYSQL_DT},
  `modified` {_MYSQL_DT},
  `active` tinyint(1) NOT NULL DEFAULT 1,
  `phone` varchar(30) NOT NULL DEFAULT '',
  `email_other` varchar(255) NOT NULL DEFAULT '',
  `token` varchar(255) NOT NULL DEFAULT '',
  `token_validity` {_MYSQL_DT},
  `totp_secret` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`username`)
) {_MYSQL_TABLE} COMMENT='Postfix Admin - Virtual Admins'""",
    f"""CREATE TABLE `domain` (
  `domain` varchar(255) NOT NULL,
  `description` varchar(255) NOT NULL,
  `aliases` int(10) NOT NULL DEFAULT 0,
  `mailboxes` int(10) NOT NULL DEFAULT 0,
  `maxquota` bigint(20) NOT NULL DEFAULT 0,
  `quota` bigint(20) NOT NULL DEFAULT 0,
  `transport` varchar(255) NOT NULL,
  `backupmx` tinyint(1) NOT NULL DEFAULT 0,
  `created` {_MYSQL_DT},
  `modified` {_MYSQL_DT},
  `active` tinyint(1) NOT NULL DEFAULT 1,
  `password_expiry` int(11) DEFAULT 0,
  PRIMARY KEY (`domain`)
) {_MYSQL_TABLE} COMMENT='Postfix Admin - Virtual Domains'""",
    f"""CREATE TABLE `domain_admins` (
  `username` varchar(255) NOT NULL,
  `domain` varchar(255) NOT NULL,
  `created` {_MYSQL_DT},
  `active` tinyint(1) NOT NULL DEFAULT 1,
  `id` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`id`),
  KEY `username` (`username`),
  KEY `idx_domadm_user_domain_active` (`username`, `domain`, `active`)
) {_MYSQL_TABLE} COMMENT='Postfix Admin - Domain Admins'""",
    f"""CREATE TABLE `mailbox` (
  `username` varchar(255) NOT NULL,
  `password` varchar(255) NOT NULL,
  `name` varchar(255) NOT NULL,
  `maildir` varchar(255) NOT NULL,
  `quota` bigint(20) NOT NULL DEFAULT 0,
  `local_part` varchar(255) NOT NULL,
  `domain` varchar(255) NOT NULL,
  `created` {_MYSQL_DT},
  `modified` {_MYSQL_DT},
  `active` tinyint(1) NOT NULL DEFAULT 1,
  `phone` varchar(30) NOT NULL DEFAULT '',
  `email_other` varchar(255) NOT NULL DEFAULT '',
  `token` varchar(255) NOT NULL DEFAULT '',
  `token_validity` {_MYSQL_DT},
  `password_expiry` {_MYSQL_DT},
  `totp_secret` varchar(255) DEFAULT NULL,
  `smtp_active` tinyint(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`username`),
  KEY `domain` (`domain`)
) {_MYSQL_TABLE} COMMENT='Postfix Admin - Virtual Mailboxes'""",
    f"""CREATE TABLE `alias` (
  `address` varchar(255) NOT NULL,
  `goto` text NOT NULL,
  `domain` varchar(255) NOT NULL,
  `created` {_MYSQL_DT},
  `modified` {_MYSQL_DT},
  `active` tinyint(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`address`),
  KEY `domain` (`domain`)
) {_MYSQL_TABLE} COMMENT='Postfix Admin - Virtual Aliases'""",
    f"""CREATE TABLE `alias_domain` (
  `alias_domain` varchar(255) NOT NULL DEFAULT '',
  `target_domain` varchar(255) NOT NULL DEFAULT '',
  `created` {_MYSQL_DT},
  `modified` {_MYSQL_DT},
  `active` tinyint(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`alias_domain`),
  KEY `active` (`active`),
  KEY `target_domain` (`target_domain`)
) {_MYSQL_TABLE} COMMENT='Postfix Admin - Domain Aliases'""",
    f"""CREATE TABLE `log` (
  `timestamp` {_MYSQL_DT},
  `username` varchar(255) NOT NULL,
  `domain` varchar(255) NOT NULL,
  `action` varchar(255) NOT NULL,
  `data` text NOT NULL,
  `id` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`id`),
  KEY `timestamp` (`timestamp`),
  KEY `domain_timestamp` (`domain`, `timestamp`)
) {_MYSQL_TABLE} COMMENT='Postfix Admin - Log'""",
    f"""CREATE TABLE `vacation` (
  `email` varchar(255) NOT NULL,
  `subject` varchar(255) NOT NULL,
  `body` text NOT NULL,
  `cache` text NOT NULL,
  `domain` varchar(255) NOT NULL,
  `created` {_MYSQL_DT},
  `active` tinyint(1) NOT NULL DEFAULT 1,
  `modified` timestamp NOT NULL DEFAULT current_timestamp(),
  `activefrom` {_MYSQL_TS},
  `activeuntil` timestamp NOT NULL DEFAULT '2038-01-18 00:00:00',
  `interval_time` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`email`),
  KEY `email` (`email`)
) {_MYSQL_TABLE} COMMENT='Postfix Admin - Virtual Vacation'""",
    f"""CREATE TABLE `vacation_notification` (
  `on_vacation` varchar(255) NOT NULL,
  `notified` varchar(255) NOT NULL DEFAULT '',
  `notified_at` timestamp NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (`on_vacation`, `notified`),
  CONSTRAINT `vacation_notification_pkey` FOREIGN KEY (`on_vacation`)
    REFERENCES `vacation` (`email`) ON DELETE CASCADE
) {_MYSQL_TABLE} COMMENT='Postfix Admin - Virtual Vacation Notifications'""",
    f"""CREATE TABLE `quota` (
  `username` varchar(255) NOT NULL,
  `path` varchar(100) NOT NULL,
  `current` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`username`, `path`)
) {_MYSQL_TABLE}""",
    f"""CREATE TABLE `quota2` (
  `username` varchar(255) NOT NULL,
  `bytes` bigint(20) NOT NULL DEFAULT 0,
  `messages` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`username`)
) {_MYSQL_TABLE}""",
    f"""CREATE TABLE `fetchmail` (
  `id` int(11) unsigned NOT NULL AUTO_INCREMENT,
  `domain` varchar(255) DEFAULT '',
  `mailbox` varchar(255) NOT NULL,
  `src_server` varchar(255) NOT NULL,
  `src_auth` enum('password','kerberos_v5','kerberos','kerberos_v4','gssapi','cram-md5',
    'otp','ntlm','msn','ssh','any') DEFAULT NULL,
  `src_user` varchar(255) NOT NULL,
  `src_password` varchar(255) NOT NULL,
  `src_folder` varchar(255) NOT NULL,
  `poll_time` int(11) unsigned NOT NULL DEFAULT 10,
  `fetchall` tinyint(1) unsigned NOT NULL DEFAULT 0,
  `keep` tinyint(1) unsigned NOT NULL DEFAULT 0,
  `protocol` enum('POP3','IMAP','POP2','ETRN','AUTO') DEFAULT NULL,
  `usessl` tinyint(1) unsigned NOT NULL DEFAULT 0,
  `extra_options` text DEFAULT NULL,
  `returned_text` text DEFAULT NULL,
  `mda` varchar(255) NOT NULL,
  `date` {_MYSQL_TS},
  `sslcertck` tinyint(1) NOT NULL DEFAULT 0,
  `sslcertpath` varchar(255) DEFAULT '',
  `sslfingerprint` varchar(255) DEFAULT '',
  `created` {_MYSQL_TS},
  `modified` timestamp NOT NULL DEFAULT current_timestamp(),
  `active` tinyint(1) NOT NULL DEFAULT 0,
  `src_port` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `idx_fetchmail_domain` (`domain`)
) {_MYSQL_TABLE}""",
    f"""CREATE TABLE `dkim` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `domain_name` varchar(255) NOT NULL,
  `description` varchar(255) DEFAULT '',
  `selector` varchar(63) NOT NULL DEFAULT 'default',
  `private_key` text DEFAULT NULL,
  `public_key` text DEFAULT NULL,
  `created` {_MYSQL_DT},
  `modified` {_MYSQL_DT},
  PRIMARY KEY (`id`),
  KEY `domain_name` (`domain_name`, `description`),
  CONSTRAINT `dkim_domain_name_fk` FOREIGN KEY (`domain_name`)
    REFERENCES `domain` (`domain`) ON DELETE CASCADE
) {_MYSQL_TABLE}""",
    f"""CREATE TABLE `dkim_signing` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `author` varchar(255) NOT NULL DEFAULT '',
  `dkim_id` int(11) NOT NULL,
  `created` {_MYSQL_DT},
  `modified` {_MYSQL_DT},
  PRIMARY KEY (`id`),
  KEY `author` (`author`),
  CONSTRAINT `dkim_signing_dkim_id_fk` FOREIGN KEY (`dkim_id`)
    REFERENCES `dkim` (`id`) ON DELETE CASCADE
) {_MYSQL_TABLE}""",
    f"""CREATE TABLE `totp_exception_address` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `ip` varchar(46) NOT NULL,
  `username` varchar(255) DEFAULT NULL,
  `description` varchar(255) DEFAULT NULL,
  `created` timestamp NOT NULL DEFAULT current_timestamp(),
  `modified` timestamp NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (`id`),
  UNIQUE KEY `ip_user` (`ip`, `username`)
) {_MYSQL_TABLE}""",
    f"""CREATE TABLE `mailbox_app_password` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `username` varchar(255) DEFAULT NULL,
  `description` varchar(255) DEFAULT NULL,
  `password_hash` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`)
) {_MYSQL_TABLE}""",
]

POSTGRESQL = [
    """CREATE TABLE config (
  id serial PRIMARY KEY,
  name varchar(20) NOT NULL UNIQUE,
  value varchar(20) NOT NULL
)""",
    """CREATE TABLE admin (
  username varchar(255) NOT NULL,
  password varchar(255) NOT NULL DEFAULT '',
  created timestamp with time zone DEFAULT now(),
  modified timestamp with time zone DEFAULT now(),
  active boolean NOT NULL DEFAULT true,
  superadmin boolean NOT NULL DEFAULT false,
  phone varchar(30) NOT NULL DEFAULT '',
  email_other varchar(255) NOT NULL DEFAULT '',
  token varchar(255) NOT NULL DEFAULT '',
  token_validity timestamp with time zone DEFAULT '2000-01-01 00:00:00+00',
  totp_secret varchar(255) DEFAULT NULL,
  CONSTRAINT admin_key PRIMARY KEY (username)
)""",
    """CREATE TABLE domain (
  domain varchar(255) NOT NULL,
  description varchar(255) NOT NULL DEFAULT '',
  aliases integer NOT NULL DEFAULT 0,
  mailboxes integer NOT NULL DEFAULT 0,
  maxquota bigint NOT NULL DEFAULT 0,
  quota bigint NOT NULL DEFAULT 0,
  transport varchar(255) DEFAULT NULL,
  backupmx boolean NOT NULL DEFAULT false,
  created timestamp with time zone DEFAULT now(),
  modified timestamp with time zone DEFAULT now(),
  active boolean NOT NULL DEFAULT true,
  password_expiry integer DEFAULT 0,
  CONSTRAINT domain_key PRIMARY KEY (domain)
)""",
    "CREATE INDEX domain_domain_active ON domain (domain, active)",
    """CREATE TABLE domain_admins (
  username varchar(255) NOT NULL,
  domain varchar(255) NOT NULL REFERENCES domain (domain),
  created timestamp with time zone DEFAULT now(),
  active boolean NOT NULL DEFAULT true,
  id serial PRIMARY KEY
)""",
    "CREATE INDEX idx_domadm_user_domain_active ON domain_admins (username, domain, active)",
    """CREATE TABLE mailbox (
  username varchar(255) NOT NULL,
  password varchar(255) NOT NULL DEFAULT '',
  name varchar(255) NOT NULL DEFAULT '',
  maildir varchar(255) NOT NULL DEFAULT '',
  quota bigint NOT NULL DEFAULT 0,
  created timestamp with time zone DEFAULT now(),
  modified timestamp with time zone DEFAULT now(),
  active boolean NOT NULL DEFAULT true,
  domain varchar(255) REFERENCES domain (domain),
  local_part varchar(255) NOT NULL,
  phone varchar(30) NOT NULL DEFAULT '',
  email_other varchar(255) NOT NULL DEFAULT '',
  token varchar(255) NOT NULL DEFAULT '',
  token_validity timestamp with time zone DEFAULT '2000-01-01 00:00:00+00',
  password_expiry timestamp with time zone DEFAULT '2000-01-01 00:00:00+00',
  totp_secret varchar(255) DEFAULT NULL,
  smtp_active boolean NOT NULL DEFAULT true,
  CONSTRAINT mailbox_key PRIMARY KEY (username)
)""",
    "CREATE INDEX mailbox_username_active ON mailbox (username, active)",
    "CREATE INDEX mailbox_domain_idx ON mailbox (domain)",
    """CREATE TABLE alias (
  address varchar(255) NOT NULL,
  goto text NOT NULL,
  domain varchar(255) NOT NULL REFERENCES domain (domain),
  created timestamp with time zone DEFAULT now(),
  modified timestamp with time zone DEFAULT now(),
  active boolean NOT NULL DEFAULT true,
  CONSTRAINT alias_key PRIMARY KEY (address)
)""",
    "CREATE INDEX alias_address_active ON alias (address, active)",
    "CREATE INDEX alias_domain_idx ON alias (domain)",
    """CREATE TABLE alias_domain (
  alias_domain varchar(255) NOT NULL REFERENCES domain (domain) ON DELETE CASCADE,
  target_domain varchar(255) NOT NULL REFERENCES domain (domain) ON DELETE CASCADE,
  created timestamp with time zone DEFAULT now(),
  modified timestamp with time zone DEFAULT now(),
  active boolean NOT NULL DEFAULT true,
  PRIMARY KEY (alias_domain)
)""",
    "CREATE INDEX alias_domain_active ON alias_domain (alias_domain, active)",
    """CREATE TABLE log (
  timestamp timestamp with time zone DEFAULT now(),
  username varchar(255) NOT NULL DEFAULT '',
  domain varchar(255) NOT NULL DEFAULT '',
  action varchar(255) NOT NULL DEFAULT '',
  data text NOT NULL DEFAULT '',
  id serial PRIMARY KEY
)""",
    "CREATE INDEX log_domain_timestamp_idx ON log (domain, timestamp)",
    """CREATE TABLE vacation (
  email varchar(255) PRIMARY KEY,
  subject varchar(255) NOT NULL,
  body text NOT NULL DEFAULT '',
  created timestamp with time zone DEFAULT now(),
  active boolean NOT NULL DEFAULT true,
  domain varchar(255) REFERENCES domain (domain),
  modified timestamp with time zone DEFAULT now(),
  activefrom timestamp with time zone DEFAULT '2000-01-01 00:00:00+00',
  activeuntil timestamp with time zone DEFAULT '2038-01-18 00:00:00+00',
  interval_time integer NOT NULL DEFAULT 0
)""",
    "CREATE INDEX vacation_email_active ON vacation (email, active)",
    """CREATE TABLE vacation_notification (
  on_vacation varchar(255) NOT NULL
    CONSTRAINT vacation_notification_on_vacation_fkey
    REFERENCES vacation (email) ON DELETE CASCADE,
  notified varchar(255) NOT NULL,
  notified_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT vacation_notification_pkey PRIMARY KEY (on_vacation, notified)
)""",
    """CREATE TABLE quota (
  username varchar(255) NOT NULL,
  path varchar(100) NOT NULL,
  current bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (username, path)
)""",
    """CREATE TABLE quota2 (
  username varchar(100) PRIMARY KEY,
  bytes bigint NOT NULL DEFAULT 0,
  messages integer NOT NULL DEFAULT 0
)""",
    # Dovecot's dict inserts a row per change; these triggers turn inserts into increments.
    """CREATE OR REPLACE FUNCTION merge_quota() RETURNS TRIGGER AS $$
BEGIN
  UPDATE quota SET current = current + NEW.current
    WHERE username = NEW.username AND path = NEW.path;
  IF found THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION merge_quota2() RETURNS TRIGGER AS $$
BEGIN
  -- The row this function inserts itself (one trigger level down) is stored as it is.
  IF pg_trigger_depth() > 1 THEN
    RETURN NEW;
  END IF;
  LOOP
    UPDATE quota2 SET bytes = bytes + NEW.bytes, messages = messages + NEW.messages
      WHERE username = NEW.username;
    IF found THEN
      RETURN NULL;
    END IF;
    BEGIN
      INSERT INTO quota2 (username, bytes, messages)
        VALUES (NEW.username, NEW.bytes, NEW.messages);
      RETURN NULL;
    EXCEPTION WHEN unique_violation THEN
      -- Another session inserted the row first: go round and add to it.
    END;
  END LOOP;
END;
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER mergequota BEFORE INSERT ON quota
  FOR EACH ROW EXECUTE PROCEDURE merge_quota()""",
    """CREATE TRIGGER mergequota2 BEFORE INSERT ON quota2
  FOR EACH ROW EXECUTE PROCEDURE merge_quota2()""",
    """CREATE TABLE fetchmail (
  id serial PRIMARY KEY,
  domain varchar(255) DEFAULT '',
  mailbox varchar(255) NOT NULL DEFAULT '',
  src_server varchar(255) NOT NULL DEFAULT '',
  src_auth varchar(15) NOT NULL,
  src_user varchar(255) NOT NULL DEFAULT '',
  src_password varchar(255) NOT NULL DEFAULT '',
  src_folder varchar(255) NOT NULL DEFAULT '',
  poll_time integer NOT NULL DEFAULT 10,
  fetchall boolean NOT NULL DEFAULT false,
  keep boolean NOT NULL DEFAULT false,
  protocol varchar(15) NOT NULL,
  extra_options text,
  returned_text text,
  mda varchar(255) NOT NULL DEFAULT '',
  date timestamp with time zone DEFAULT now(),
  usessl boolean NOT NULL DEFAULT false,
  sslcertck boolean NOT NULL DEFAULT false,
  sslcertpath varchar(255) DEFAULT '',
  sslfingerprint varchar(255) DEFAULT '',
  created timestamp with time zone DEFAULT '2000-01-01 00:00:00+00',
  modified timestamp with time zone DEFAULT now(),
  active boolean NOT NULL DEFAULT false,
  src_port integer NOT NULL DEFAULT 0,
  CHECK (src_auth IN ('password','kerberos_v5','kerberos','kerberos_v4','gssapi',
    'cram-md5','otp','ntlm','msn','ssh','any')),
  CHECK (protocol IN ('POP3','IMAP','POP2','ETRN','AUTO'))
)""",
    "CREATE INDEX idx_fetchmail_domain ON fetchmail (domain)",
    """CREATE TABLE dkim (
  id serial PRIMARY KEY,
  domain_name varchar(255) NOT NULL REFERENCES domain (domain) ON DELETE CASCADE,
  description varchar(255) DEFAULT '',
  selector varchar(63) NOT NULL DEFAULT 'default',
  private_key text,
  public_key text,
  created timestamp with time zone DEFAULT '2000-01-01 00:00:00+00',
  modified timestamp with time zone DEFAULT '2000-01-01 00:00:00+00'
)""",
    "CREATE INDEX dkim_domain_name_idx ON dkim (domain_name, description)",
    """CREATE TABLE dkim_signing (
  id serial PRIMARY KEY,
  author varchar(255) NOT NULL DEFAULT '',
  dkim_id integer NOT NULL REFERENCES dkim (id) ON DELETE CASCADE,
  created timestamp with time zone DEFAULT '2000-01-01 00:00:00+00',
  modified timestamp with time zone DEFAULT '2000-01-01 00:00:00+00'
)""",
    "CREATE INDEX dkim_signing_author_idx ON dkim_signing (author)",
    """CREATE TABLE totp_exception_address (
  id serial PRIMARY KEY,
  ip varchar(46) NOT NULL,
  username varchar(255) DEFAULT NULL,
  description varchar(255) DEFAULT NULL,
  created timestamp with time zone DEFAULT now(),
  modified timestamp with time zone DEFAULT now(),
  CONSTRAINT ip_user UNIQUE (ip, username)
)""",
    """CREATE TABLE mailbox_app_password (
  id serial PRIMARY KEY,
  username varchar(255) DEFAULT NULL,
  description varchar(255) DEFAULT NULL,
  password_hash varchar(255) DEFAULT NULL
)""",
]

# SQLite is for a first look: the same tables and columns with SQLite's loose types.
SQLITE = [
    """CREATE TABLE config (
  id integer PRIMARY KEY AUTOINCREMENT,
  name text NOT NULL DEFAULT '' UNIQUE,
  value text NOT NULL DEFAULT ''
)""",
    """CREATE TABLE admin (
  username varchar(255) NOT NULL PRIMARY KEY COLLATE NOCASE,
  password varchar(255) NOT NULL,
  superadmin tinyint(1) NOT NULL DEFAULT 0,
  created datetime NOT NULL DEFAULT '2000-01-01',
  modified datetime NOT NULL DEFAULT '2000-01-01',
  active tinyint(1) NOT NULL DEFAULT 1,
  phone varchar(30) NOT NULL DEFAULT '',
  email_other varchar(255) NOT NULL DEFAULT '',
  token varchar(255) NOT NULL DEFAULT '',
  token_validity datetime NOT NULL DEFAULT '2000-01-01',
  totp_secret varchar(255) DEFAULT NULL
)""",
    """CREATE TABLE domain (
  domain varchar(255) NOT NULL PRIMARY KEY COLLATE NOCASE,
  description varchar(255) NOT NULL,
  aliases int NOT NULL DEFAULT 0,
  mailboxes int NOT NULL DEFAULT 0,
  maxquota bigint NOT NULL DEFAULT 0,
  quota bigint NOT NULL DEFAULT 0,
  transport varchar(255) NOT NULL,
  backupmx tinyint(1) NOT NULL DEFAULT 0,
  created datetime NOT NULL DEFAULT '2000-01-01',
  modified datetime NOT NULL DEFAULT '2000-01-01',
  active tinyint(1) NOT NULL DEFAULT 1,
  password_expiry int DEFAULT 0
)""",
    """CREATE TABLE domain_admins (
  id integer PRIMARY KEY AUTOINCREMENT,
  username varchar(255) NOT NULL COLLATE NOCASE,
  domain varchar(255) NOT NULL COLLATE NOCASE,
  created datetime NOT NULL DEFAULT '2000-01-01',
  active tinyint(1) NOT NULL DEFAULT 1
)""",
    "CREATE INDEX idx_domadm_user_domain_active ON domain_admins (username, domain, active)",
    """CREATE TABLE mailbox (
  username varchar(255) NOT NULL PRIMARY KEY COLLATE NOCASE,
  password varchar(255) NOT NULL,
  name varchar(255) NOT NULL,
  maildir varchar(255) NOT NULL,
  quota bigint NOT NULL DEFAULT 0,
  local_part varchar(255) NOT NULL COLLATE NOCASE,
  domain varchar(255) NOT NULL COLLATE NOCASE,
  created datetime NOT NULL DEFAULT '2000-01-01',
  modified datetime NOT NULL DEFAULT '2000-01-01',
  active tinyint(1) NOT NULL DEFAULT 1,
  phone varchar(30) NOT NULL DEFAULT '',
  email_other varchar(255) NOT NULL DEFAULT '',
  token varchar(255) NOT NULL DEFAULT '',
  token_validity datetime NOT NULL DEFAULT '2000-01-01',
  password_expiry datetime NOT NULL DEFAULT '2000-01-01',
  totp_secret varchar(255) DEFAULT NULL,
  smtp_active tinyint(1) NOT NULL DEFAULT 1
)""",
    "CREATE INDEX mailbox_domain_idx ON mailbox (domain)",
    """CREATE TABLE alias (
  address varchar(255) NOT NULL PRIMARY KEY COLLATE NOCASE,
  goto text NOT NULL,
  domain varchar(255) NOT NULL COLLATE NOCASE,
  created datetime NOT NULL DEFAULT '2000-01-01',
  modified datetime NOT NULL DEFAULT '2000-01-01',
  active tinyint(1) NOT NULL DEFAULT 1
)""",
    "CREATE INDEX alias_domain_idx ON alias (domain)",
    """CREATE TABLE alias_domain (
  alias_domain varchar(255) NOT NULL PRIMARY KEY COLLATE NOCASE,
  target_domain varchar(255) NOT NULL COLLATE NOCASE,
  created datetime NOT NULL DEFAULT '2000-01-01',
  modified datetime NOT NULL DEFAULT '2000-01-01',
  active tinyint(1) NOT NULL DEFAULT 1
)""",
    "CREATE INDEX alias_domain_target_idx ON alias_domain (target_domain)",
    """CREATE TABLE log (
  id integer PRIMARY KEY AUTOINCREMENT,
  timestamp datetime NOT NULL DEFAULT '2000-01-01',
  username varchar(255) NOT NULL,
  domain varchar(255) NOT NULL,
  action varchar(255) NOT NULL,
  data text NOT NULL
)""",
    "CREATE INDEX log_domain_timestamp_idx ON log (domain, timestamp)",
    "CREATE INDEX log_timestamp_idx ON log (timestamp)",
    """CREATE TABLE vacation (
  email varchar(255) NOT NULL PRIMARY KEY COLLATE NOCASE,
  subject varchar(255) NOT NULL,
  body text NOT NULL,
  cache text NOT NULL DEFAULT '',
  domain varchar(255) NOT NULL,
  created datetime NOT NULL DEFAULT '2000-01-01',
  active tinyint(1) NOT NULL DEFAULT 1,
  modified datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  activefrom datetime NOT NULL DEFAULT '2000-01-01',
  activeuntil datetime NOT NULL DEFAULT '2038-01-18',
  interval_time int NOT NULL DEFAULT 0
)""",
    """CREATE TABLE vacation_notification (
  on_vacation varchar(255) NOT NULL REFERENCES vacation (email) ON DELETE CASCADE,
  notified varchar(255) NOT NULL,
  notified_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (on_vacation, notified)
)""",
    """CREATE TABLE quota (
  username varchar(255) NOT NULL,
  path varchar(100) NOT NULL,
  current bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (username, path)
)""",
    """CREATE TABLE quota2 (
  username varchar(255) NOT NULL PRIMARY KEY,
  bytes bigint NOT NULL DEFAULT 0,
  messages int NOT NULL DEFAULT 0
)""",
    """CREATE TABLE fetchmail (
  id integer PRIMARY KEY AUTOINCREMENT,
  domain varchar(255) DEFAULT '',
  mailbox varchar(255) NOT NULL,
  src_server varchar(255) NOT NULL,
  src_auth varchar(255) DEFAULT NULL,
  src_user varchar(255) NOT NULL,
  src_password varchar(255) NOT NULL,
  src_folder varchar(255) NOT NULL,
  poll_time int NOT NULL DEFAULT 10,
  fetchall tinyint(1) NOT NULL DEFAULT 0,
  keep tinyint(1) NOT NULL DEFAULT 0,
  protocol text DEFAULT NULL,
  usessl tinyint(1) NOT NULL DEFAULT 0,
  extra_options text,
  returned_text text,
  mda varchar(255) NOT NULL,
  date datetime NOT NULL DEFAULT '2000-01-01',
  sslcertck tinyint(1) NOT NULL DEFAULT 0,
  sslcertpath varchar(255) DEFAULT '',
  sslfingerprint varchar(255) DEFAULT '',
  created datetime NOT NULL DEFAULT '2000-01-01',
  modified datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  active tinyint(1) NOT NULL DEFAULT 0,
  src_port int NOT NULL DEFAULT 0
)""",
    """CREATE TABLE dkim (
  id integer PRIMARY KEY AUTOINCREMENT,
  domain_name varchar(255) NOT NULL REFERENCES domain (domain) ON DELETE CASCADE,
  description varchar(255) DEFAULT '',
  selector varchar(63) NOT NULL DEFAULT 'default',
  private_key text,
  public_key text,
  created datetime NOT NULL DEFAULT '2000-01-01',
  modified datetime NOT NULL DEFAULT '2000-01-01'
)""",
    """CREATE TABLE dkim_signing (
  id integer PRIMARY KEY AUTOINCREMENT,
  author varchar(255) NOT NULL DEFAULT '',
  dkim_id integer NOT NULL REFERENCES dkim (id) ON DELETE CASCADE,
  created datetime NOT NULL DEFAULT '2000-01-01',
  modified datetime NOT NULL DEFAULT '2000-01-01'
)""",
    """CREATE TABLE totp_exception_address (
  id integer PRIMARY KEY AUTOINCREMENT,
  ip varchar(46) NOT NULL,
  username varchar(255) DEFAULT NULL,
  description varchar(255) DEFAULT NULL,
  created datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  modified datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (ip, username)
)""",
    """CREATE TABLE mailbox_app_password (
  id integer PRIMARY KEY AUTOINCREMENT,
  username varchar(255) DEFAULT NULL,
  description varchar(255) DEFAULT NULL,
  password_hash varchar(255) DEFAULT NULL
)""",
]

BY_VENDOR = {"mysql": MYSQL, "postgresql": POSTGRESQL, "sqlite": SQLITE}
