/*
 * arc_vectors.h - test vectors for test_arc.c, made by dkimpy's arc_sign
 * (Debian's python3-dkim): a message sealed twice (i=1 by example.org,
 * i=2 by example.net, one RSA-2048 key published at arc._domainkey of
 * both), which dkimpy's arc_verify passes.
 */
#ifndef TEST_ARC_VECTORS_H
#define TEST_ARC_VECTORS_H

static const char arc_key_record[] =
    "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqgDOcc3G"
    "PWnYeznP4vYERrC7ovApEACeeVPaDEHutt6TOE1zRqGX+5JPndnli4gqetEYWA25p5tStG"
    "K5WcAepM6pH0qwfQPlaRN6BsZKddp881xOzou3F7qCNm0VO8F8+e1R1p4qt1vtT2WdiAjK"
    "kRB4JFYDU77tpmJf2Cv/3koPUEu1usphpLxCIomjXwQvnTLQGKwxnJPeWFl/+CmT98mx4c"
    "/4IdvL/bNCZ++/auX9VgPMeBLEEYF9GidYfAIEOLVL7DvQdmmDv9pcePDQXEdzzTWnmGDZ"
    "kqYKlCB+v2NNQ5Rkw9YUXAT+28+Ivd//rsHIxGs1F9dE0viJibCiqQIDAQAB";

static const char arc_two_sets[] =
    "ARC-Seal: i=2; cv=pass; a=rsa-sha256; d=example.net; s=arc; t=1765000100;\r\n"
    " b=Zwr8qNR/+ynJJGaYdB9XbunGBZlgktsefDkx+zbqiPnylvauqXuAEfwdOZgAVtYUeMvsr\r\n"
    " nl93aanA4f+KPgNK4hUiHtPSt87Ca7wvzGLVsNZBiM6Q2l4/PnR6KvYeHsoIyVHgSvl4JhR\r\n"
    " LX4niVEx+Y9LWNpmUR67VKUjFYxgDmufAs+S5Ku4XJ6b/fOBR7UH8NSfSKAKcuu27q4gjzj\r\n"
    " AwhHtlTKPlLSeqZ5ybEILK3+r156BuNVGqAhPxg0nEf5h8QofAk3WbO4/2sm+uCZ+hwDK8s\r\n"
    " ElkQ7oVL6ObobsVP2TBJJEoqGmJY8SglibMz2mYxq8qlAB2f0+nQQD4FBhbA==\r\n"
    "ARC-Message-Signature: i=2; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=example.net; s=arc; t=1765000100; h=from : to : subject : date :\r\n"
    " message-id : from; bh=ei/VhU8peFzE7ZHI6weY88Pv2qe7ipjSntl3Gj+00aQ=;\r\n"
    " b=km4M4zL2oQasIw0vmA7+M5sOz96sbLiFlW1qAIWzbZSTLX6CYkWuEdDGZlvQhHFsExC9z\r\n"
    " fv6RA0yX8+4MIL10KhPcsdB77gKQEZsKqxbsJQxmIPzE24ysSj9/Tf9NqXBKGllSrdWM9SD\r\n"
    " TZ0XjY9H1RxrNtlmx/aoxUnzpDbBVQfYjUsNErtGnb7a/ghZvVNm89P7hdNnt363ufBEtMg\r\n"
    " qXclSnvlwXJAwcLzcl1bpS3kJ1PTHSkJGyOn2/CTy4GP4XDGBRw2fiDoC8/A6+HItmBfwIl\r\n"
    " 9CpBIVjtQhaxjzchkKOxEXebIqrvz4dPFjbrzXwa4RlwFGsdnLV7/sm+OK8A==\r\n"
    "ARC-Authentication-Results: i=2; relay.example.net; arc=pass\r\n"
    "Authentication-Results: relay.example.net; arc=pass\r\n"
    "ARC-Seal: i=1; cv=none; a=rsa-sha256; d=example.org; s=arc; t=1765000000;\r\n"
    " b=SPYzupH/+AMBdvsr5zd3vTzYZxHfSt2IL751uCZvriCAEnu0BVmsn1+KxN/2GGRvPR8sZ\r\n"
    " 7K5SzHdiviJI/46TOTyiO4qhAdvwPN+rLkaEqqfocakAgty87kRQ1TZZ4UnBcIqMcoooywY\r\n"
    " NdrtlEx8J+lbOznVNY7RuP97m1oWN2MGmqPc5gPhvc1/gtjxWfYQhpxmgHDvmP25sqUu/oQ\r\n"
    " ySg0I2FYRic/sEFrr3ARNyCVVkzyh5jHvGWcSMyLoiZ1uiBgrpOQ0yBCjJvAT826aW4b6R9\r\n"
    " Fv7tZ/kRjHwD4Oxf50GgHmJqPIZ7wqNOSKVIDr4hI7oxpEfUXWAFBWrr2zkg==\r\n"
    "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=example.org; s=arc; t=1765000000; h=from : to : subject : date :\r\n"
    " message-id : from; bh=ei/VhU8peFzE7ZHI6weY88Pv2qe7ipjSntl3Gj+00aQ=;\r\n"
    " b=PjFXZ8PoispVwBYVqNZ62GUQSQ4zer6XKG2qGNgpE37bwyeYOcGt1zcmWpRNzSbc2w0Sd\r\n"
    " agXuthVvhLr4oSvM+Jhxl1boDaWC0u3RULOrG32jZGERY7z1U3wiCejiTSG1gfU21yzZxxJ\r\n"
    " zo/0fCJ9dKsL0W1VqukPhYtuVVIAIXU/nY1/GhP8jofLSdmKt2SLvdnVerq2ktaDmHIznHm\r\n"
    " hFUzVrSZCG0hRRd2rr1RLSpqedKuzf10KHgtVrkNVTd3PbcHJPJ577mQkmRWt0OEabxr9Xc\r\n"
    " QMibZxVvatKal4c/yYLWEyRr5H4wD3o4EXaVKua+oyUl3Qs+fV8sqw/IKhgA==\r\n"
    "ARC-Authentication-Results: i=1; lists.example.org; spf=pass "
    "smtp.mailfrom=alice@example.com\r\n"
    "Authentication-Results: lists.example.org; spf=pass smtp.mailfrom=alice@example.com\r\n"
    "From: Alice <alice@example.com>\r\n"
    "To: list@example.org\r\n"
    "Subject: hello\r\n"
    "Date: Sun, 6 Dec 2026 20:00:00 +0000\r\n"
    "Message-ID: <1@example.com>\r\n"
    "\r\n"
    "Hello list.\r\n";

#endif
