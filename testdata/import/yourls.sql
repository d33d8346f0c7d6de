-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
--
-- Table structure for table `yourls_url`
--

DROP TABLE IF EXISTS `yourls_url`;
CREATE TABLE `yourls_url` (
  `keyword` varchar(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `url` text CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `title` text,
  `timestamp` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `ip` varchar(41) NOT NULL,
  `clicks` int unsigned NOT NULL,
  PRIMARY KEY (`keyword`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

LOCK TABLES `yourls_url` WRITE;
INSERT INTO `yourls_url` VALUES ('ozh','http://ozh.org/','Ozh RICHARD // ozh.org','2023-01-10 12:00:00','127.0.0.1',12),('yourls-home','https://yourls.org/','YOURLS: Your Own URL Shortener','2023-01-11 09:30:00','127.0.0.1',7),('quote','https://example.org/it\'s','It\'s quoted','2023-02-01 00:00:00','10.0.0.1',0);
UNLOCK TABLES;
