import { refusedAddressReason, serviceUrlProblem } from '../../lib/network-policy';

describe('refusedAddressReason', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.8.9.10', /loopback/],
    ['0.0.0.0', /unspecified/],
    ['10.0.0.1', /private/],
    ['172.16.5.4', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.255', /carrier-grade NAT/],
    ['169.254.169.254', /link-local.*metadata/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['[::1]', /loopback/],
    ['fd00::1', /unique local/],
    ['fd00:ec2::254', /unique local/],
    ['fc00::1', /unique local/],
    ['fe80::1%eth0', /link-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:169.254.169.254', /link-local/],
    ['::ffff:a00:1', /private/],
    ['64:ff9b::a9fe:a9fe', /link-local/],
    ['2002:c0a8:0101::1', /private/],
  ])('refuses %s', (address, reason) => {
    expect(refusedAddressReason(address)).toMatch(reason);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(refusedAddressReason(address)).toBeUndefined();
    },
  );
});

describe('serviceUrlProblem', () => {
  it.each([
    ['https://pms.example.com', undefined],
    ['http://pms.example.com:8080/shop/', undefined],
    ['https://pms.example.com/?key=1', /query/],
    ['https://pms.example.com/?', /query/],
    ['https://pms.example.com/#x', /fragment/],
    ['https://user:pw@pms.example.com', /credentials/],
    ['https://user@pms.example.com', /credentials/],
    ['ftp://pms.example.com', /http\(s\)/],
    ['file:///etc/passwd', /http\(s\)/],
    ['not a url', /not a URL/],
  ])('%s: %s', (url, expected) => {
    const problem = serviceUrlProblem(url);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});
